//! Reading GeoTIFFs through GDAL: opening safely, scanning files, exact statistics and
//! the quantile sketches that merge them across files.

pub mod bundled;
pub mod cache;
pub mod crs;
pub mod error;
pub mod f32_histogram;
pub mod grid;
pub mod indices;
pub mod kept_quicklook;
pub mod npy;
pub mod open;
pub mod optical;
pub mod pixel;
pub mod quicklook;
pub mod scan;
pub mod sketch;
pub mod stats;
pub mod strips;
pub mod tile_store;
pub mod tiles;
pub mod vsi;
pub mod watch;

pub use error::RasterError;
