//! What can be wrong with a geometry a user or a catalog gives, as values.

/// An error of the geometry layer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GeometryError {
    /// Text longer than [`super::parse::MAX_GEOMETRY_BYTES`]: refused before parsing.
    #[error("geometry of {bytes} bytes is over the limit of {limit}")]
    TooLarge {
        /// Bytes of the text.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// GeoJSON, WKT or WKB that cannot be read: the text says where.
    #[error("{0}")]
    Syntax(String),
    /// A coordinate that is not a WGS84 longitude and latitude.
    #[error("({x}, {y}) is not a WGS84 lon/lat position")]
    NotLonLat {
        /// The first coordinate.
        x: f64,
        /// The second.
        y: f64,
    },
    /// A footprint that is not a polygon.
    #[error("a footprint must be a Polygon, got a {0}")]
    NotPolygon(&'static str),
    /// A footprint without an area on the sphere.
    #[error("{0}")]
    Degenerate(&'static str),
}

/// [`GeometryError::Syntax`].
pub fn syntax(message: impl Into<String>) -> GeometryError {
    GeometryError::Syntax(message.into())
}
