//! The `s12_` SQL functions, one file each, named as SQL names them (a file also holds a function's
//! variant: `s12_index_mean` in `s12_index.rs`, `s12_debug` in `s12_version.rs`). They share only
//! `super::runtime`, never each other; `super::FUNCTIONS` registers them.

pub mod s12_band_summary;
pub mod s12_batch;
pub mod s12_index;
pub mod s12_indices;
pub mod s12_intersecting;
pub mod s12_intersects;
pub mod s12_legends;
pub mod s12_nearest;
pub mod s12_normalization;
pub mod s12_patches;
pub mod s12_pixel;
pub mod s12_pixels;
pub mod s12_png;
pub mod s12_season;
pub mod s12_stats;
pub mod s12_timeseries;
pub mod s12_value;
pub mod s12_version;
pub mod s12_window;
pub mod s12_zonal;
