//! What can stop `sen12lite synth`, as values.

use crate::layout::LayoutError;
use crate::raster::RasterError;
use crate::verify::VerifyError;

/// An error of the test-data generator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError {
    /// Options that cannot make a tree (a size out of range, scene ids for SEN12MS).
    #[error("synth: {0}")]
    Options(String),
    /// A file or folder of the tree that cannot be written, read back or removed.
    #[error("synth: {0}")]
    Write(String),
    /// The metadata the scenes are picked from.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// Placing a scene (a CRS GDAL cannot make).
    #[error(transparent)]
    Raster(#[from] RasterError),
    /// Writing the tree's md5sums.txt.
    #[error("synth: {0}")]
    Checksums(#[from] VerifyError),
}
