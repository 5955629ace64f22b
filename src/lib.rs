//! sen12lite: SQL over the SEN12TP and SEN12MS Sentinel-1/-2 datasets.
//!
//! The modules follow the data's path: `layout` (the datasets on disk) -> `catalog` (SQLite)
//! -> `raster` (GDAL reads and statistics); `synth` makes test data in the real layout,
//! `sql` the `s12_*` functions of the extension; `cli` holds what only the command line needs.

#![warn(missing_docs)]

pub use sql::register;

pub mod catalog;
pub mod cli;
#[cfg(feature = "loadable")]
mod extension;
pub mod geometry;
pub mod layout;
pub mod parallel;
pub mod progress;
pub mod properties;
pub mod raster;
pub mod sql;
pub mod synth;
pub mod verify;
