//! Footprints and user geometries in lon/lat: parsing GeoJSON and WKT (`parse`), footprints as
//! WKB (`wkb`), distances on the sphere and the nearest-footprint index (`sphere`).

pub mod error;
pub mod parse;
pub mod sphere;
pub mod wkb;

pub use error::GeometryError;
