//! sen12lite: SQL over the SEN12TP and SEN12MS Sentinel-1/-2 datasets.
//!
//! The modules follow the data's path: `layout` (the datasets on disk) -> `catalog` (SQLite)
//! -> `raster` (GDAL reads and statistics); `synth` makes test data in the real layout,
//! `cli` holds what only the command line needs.

pub mod catalog;
pub mod cli;
pub mod layout;
pub mod parallel;
pub mod raster;
pub mod synth;
pub mod verify;
