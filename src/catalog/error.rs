//! What can stop the catalog's work, or keep one file out of it, as values. The command line
//! prints them; the ingest writes a file's into `ingest_errors` as text.

use crate::layout::LayoutError;
use crate::raster::RasterError;

/// An error of the catalog layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// A file that cannot be read, or read as what its name says.
    #[error(transparent)]
    Raster(#[from] RasterError),
    /// The dataset's own files (its metadata) or a dataset name.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A file the layout does not place: a scene folder the metadata does not have.
    #[error("{0}")]
    Unplaced(String),
    /// An archive that cannot be listed or read, or lacks a member.
    #[error("{0}")]
    Archive(String),
    /// The ingest cannot start or go on: the data folder, a remote root not allowed, an archive
    /// not in the tree, a catalog of another tree.
    #[error("ingest: {0}")]
    Ingest(String),
    /// The catalog file cannot be opened, read or written, or has another schema.
    #[error("{0}")]
    Catalog(String),
}

/// A result of the catalog layer.
pub type CatalogResult<T> = Result<T, CatalogError>;
