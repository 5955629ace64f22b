//! sen12lite: SQL over the SEN12TP and SEN12MS Sentinel-1/-2 datasets.
//!
//! The modules follow the data's path: `layout` (the datasets on disk) -> `catalog` (SQLite)
//! -> `raster` (GDAL reads and statistics); `synth` makes test data in the real layout,
//! `sql` the `s12_*` functions of the extension. The command line (`src/cli`) is the binary's.

#![warn(missing_docs)]

// The two link modes: SQLite compiled in (`bundled`: the command, `cargo test`) or the host's
// (`loadable`: the extension). One build cannot be both (rusqlite refuses it, deep in its build).
#[cfg(all(feature = "bundled", feature = "loadable"))]
compile_error!("the features `bundled` (the command) and `loadable` (the extension) exclude each other: build the extension with `--no-default-features --features loadable` (make ext)");

pub use sql::register;

pub mod catalog;
#[cfg(feature = "loadable")]
mod extension;
pub mod geometry;
pub mod layout;
#[cfg(feature = "bundled")]
pub mod parallel;
#[cfg(feature = "bundled")]
pub mod progress;
pub mod properties;
pub mod raster;
pub mod sql;
// Test data and the checksum check are the command's; the extension never runs them.
#[cfg(feature = "bundled")]
pub mod synth;
#[cfg(feature = "bundled")]
pub mod verify;
