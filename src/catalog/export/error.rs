//! What can stop an export, as values. A failed export removes the file it created.

/// An error of the exports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Reading the catalog failed.
    #[error("export: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The output or the request cannot be used: the file exists or cannot be created, the
    /// catalog cannot be opened, a `--where` SQLite refuses, a scene without a time.
    #[error("export: {0}")]
    Request(String),
    /// GDAL's OGR failed to write the GeoPackage or GeoJSON.
    #[error("export: {what}: {reason}")]
    Ogr {
        /// The step or layer.
        what: String,
        /// GDAL's message.
        reason: String,
    },
    /// The Parquet writer failed.
    #[error("writing Parquet: {0}")]
    Parquet(String),
    /// A value that does not fit its column (a bug in the export's schema).
    #[error("{0}")]
    Value(String),
    /// A format name that is none of the formats.
    #[error("unknown format '{0}' (known: geoparquet, stac-geoparquet, gpkg, geojson)")]
    UnknownFormat(String),
}
