//! What can be wrong with a dataset's own files and names, as values.

/// An error of the layout layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// A dataset name that is none of the datasets.
    #[error("unknown dataset '{name}' (known: {known})")]
    UnknownDataset {
        /// The name given.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// `sen12tp-metadata.json` that is not JSON.
    #[error("metadata is not valid JSON: {0}")]
    MetadataJson(String),
    /// An empty `sen12tp-metadata.json`.
    #[error("metadata is empty")]
    MetadataEmpty,
    /// JSON that is not a GeoJSON FeatureCollection.
    #[error("metadata has no \"features\" array (expected a GeoJSON FeatureCollection)")]
    NotFeatureCollection,
}
