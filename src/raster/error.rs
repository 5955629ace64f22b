//! What can go wrong reading a raster, as values a caller can match: a missing file is not a
//! missing band, and a read the host stopped is not a damaged tile. The text of each is what
//! users read (the SQL functions prefix it with their name, the ingest with the file's path).

use std::path::Path;

/// An error of the raster layer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RasterError {
    /// GDAL cannot open the file as a GeoTIFF: missing, not a TIFF, or a damaged header.
    #[error("cannot open {path} as a GeoTIFF: {reason}")]
    Open {
        /// The path as GDAL was given it.
        path: String,
        /// GDAL's message.
        reason: String,
    },
    /// The file, or the archive or object holding it, cannot be found or read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The path asked for.
        path: String,
        /// The operating system's or GDAL's message.
        reason: String,
    },
    /// The file has no such band.
    #[error("band {band}: {reason}")]
    NoBand {
        /// The 1-based band number asked for.
        band: usize,
        /// GDAL's message.
        reason: String,
    },
    /// The file has another number of bands than its modality's.
    #[error("wrong band count: {found} bands, expected {expected} ({names})")]
    BandCount {
        /// Bands in the file.
        found: usize,
        /// Bands of the modality.
        expected: usize,
        /// The modality's band names, comma-separated.
        names: String,
    },
    /// The file's pixels are of a type its modality's values do not come in.
    #[error("wrong data type: {found}, expected one of {expected}")]
    DataType {
        /// The file's type (GDAL's name).
        found: String,
        /// The types allowed, comma-separated.
        expected: String,
    },
    /// A pixel type that has no numpy dtype.
    #[error("data type {0} has no numpy equivalent here")]
    NoNumpyType(String),
    /// GDAL failed to decode pixels (a damaged or truncated tile, a server that stopped answering).
    #[error("read error in {what}: {reason}")]
    Read {
        /// Which bands and rows.
        what: String,
        /// GDAL's message.
        reason: String,
    },
    /// A raster too large to read within the memory bounds (a header claiming huge dimensions).
    #[error("{0}")]
    TooLarge(String),
    /// No CRS or geotransform, or coordinates that cannot be reprojected.
    #[error("{0}")]
    Georeference(String),
    /// The read's guard stopped it: the host interrupted, or a limit was reached. The text says which.
    #[error("{0}")]
    Stopped(String),
    /// An encoded quantile sketch that cannot be decoded.
    #[error("quantile sketch {0}")]
    Sketch(String),
    /// A picture that cannot be drawn or encoded.
    #[error("{0}")]
    Image(String),
    /// A virtual path that cannot be used (not an allowed file system, a NUL byte, a failed listing).
    #[error("{0}")]
    Vsi(String),
    /// A broken invariant: a bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl RasterError {
    /// [`RasterError::Unreadable`] of `path`.
    pub fn unreadable(path: &Path, reason: impl std::fmt::Display) -> RasterError {
        RasterError::Unreadable { path: path.display().to_string(), reason: reason.to_string() }
    }

    /// [`RasterError::NoBand`] from GDAL's error.
    pub fn no_band(band: usize, error: gdal::errors::GdalError) -> RasterError {
        RasterError::NoBand { band, reason: error.to_string() }
    }

    /// The same error with `from` written `to` in its text: a file read through a memory copy is
    /// named by its own path, not the copy's. GDAL 3.12's libtiff names a file by its base name
    /// alone, so that is renamed too (after the whole path, which contains it).
    pub fn renamed(self, from: &str, to: &str) -> RasterError {
        let base = from.rsplit('/').next().unwrap_or(from);
        let rename = |text: String| text.replace(from, to).replace(base, to);
        match self {
            RasterError::Open { path, reason } => RasterError::Open { path: rename(path), reason: rename(reason) },
            RasterError::Unreadable { path, reason } => {
                RasterError::Unreadable { path: rename(path), reason: rename(reason) }
            }
            RasterError::Read { what, reason } => RasterError::Read { what, reason: rename(reason) },
            other => other,
        }
    }

    /// Whether the read was stopped by its guard (an interrupt or a limit), not failed.
    pub fn is_stop(&self) -> bool {
        matches!(self, RasterError::Stopped(_))
    }
}

/// A result of the raster layer.
pub type Result<T, E = RasterError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::RasterError;

    #[test]
    fn a_memory_copy_is_renamed_by_its_whole_path_and_by_its_base_name() {
        let reason = "/vsimem/m_1.tif, band 1: TIFFReadEncodedTile() failed (m_1.tif: bad tile)".to_string();
        let error =
            RasterError::Open { path: "/vsimem/m_1.tif".into(), reason }.renamed("/vsimem/m_1.tif", "a/b_s1.tif");
        let RasterError::Open { path, reason } = error else { panic!("not an open error") };
        assert_eq!(path, "a/b_s1.tif");
        assert_eq!(reason, "a/b_s1.tif, band 1: TIFFReadEncodedTile() failed (a/b_s1.tif: bad tile)");
    }
}
