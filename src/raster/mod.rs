//! Reading GeoTIFFs through GDAL: opening safely, scanning files, exact statistics.

pub mod open;
pub mod scan;
pub mod stats;
