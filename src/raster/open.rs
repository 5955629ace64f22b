//! Opening GeoTIFFs with GDAL set up for use inside a library: quiet, no side files written or
//! looked for, GTiff only.

use super::error::{RasterError, Result};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags, GeoTransformEx};
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

/// GDAL's block cache, shared by all threads, unless the environment sets GDAL_CACHEMAX: room
/// for the decompressed tiles of about four 2000 px S2 scenes, so windows read again (the next
/// epoch, overlapping patches) are not decompressed again. GDAL's default (5 % of RAM) is not a
/// bound a library should pick; the ingest sets its own (`set_block_cache_mb`).
const CACHE_MAX_MB: &str = "512";

/// Sets GDAL's one process-wide option we need once: a bounded block cache (unless the
/// environment sets GDAL_CACHEMAX). Everything else is set per call by [`QuietGdal`], because the
/// host may share libgdal with us (python3-gdal, ogrinfo) and must keep its own settings.
pub fn init_gdal() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("GDAL_CACHEMAX").is_none() {
            // Setting a config option only fails for keys with NUL bytes.
            let _ = gdal::config::set_config_option("GDAL_CACHEMAX", CACHE_MAX_MB);
        }
    });
}

/// Options set on this thread while a [`QuietGdal`] lives: no `.aux.xml` next to the data, no
/// `.gz.properties` next to an archive read through `/vsitar/`, no debug output, and no listing
/// of a file's folder at each opening. GDAL lists it to find side files (overviews, masks, world
/// files) that neither dataset ships: a SEN12MS patch folder holds hundreds of patches, listed
/// again for each one (and on object storage, a listing is a request).
const QUIET_OPTIONS: [(&CStr, &CStr); 4] = [
    (c"GDAL_PAM_ENABLED", c"NO"),
    (c"CPL_VSIL_GZIP_WRITE_PROPERTIES", c"NO"),
    (c"CPL_DEBUG", c"OFF"),
    (c"GDAL_DISABLE_READDIR_ON_OPEN", c"EMPTY_DIR"),
];

/// While it lives, GDAL on this thread prints nothing on the host's stderr (its errors stay
/// readable for our messages through CPLGetLastErrorMsg) and writes no side files. Both are
/// thread-local and undone on drop: the host's own error handler and options are untouched.
pub struct QuietGdal {
    previous: Vec<Option<CString>>,
}

impl QuietGdal {
    /// Quiets GDAL on this thread until the value is dropped.
    #[allow(clippy::new_without_default)]
    pub fn new() -> QuietGdal {
        init_gdal();
        // SAFETY: CPLQuietErrorHandler is GDAL's own handler; the push is undone in drop, on
        // this thread (the handler stack is per thread).
        unsafe { gdal_sys::CPLPushErrorHandler(Some(gdal_sys::CPLQuietErrorHandler)) };
        let previous = QUIET_OPTIONS
            .iter()
            .map(|(key, value)| {
                // SAFETY: NUL-terminated keys and values; GDAL copies what it keeps, and the
                // returned pointer is copied before the option is changed.
                unsafe {
                    let old = gdal_sys::CPLGetThreadLocalConfigOption(key.as_ptr(), std::ptr::null());
                    let old = (!old.is_null()).then(|| CStr::from_ptr(old).to_owned());
                    gdal_sys::CPLSetThreadLocalConfigOption(key.as_ptr(), value.as_ptr());
                    old
                }
            })
            .collect();
        QuietGdal { previous }
    }
}

impl Drop for QuietGdal {
    fn drop(&mut self) {
        for ((key, _), old) in QUIET_OPTIONS.iter().zip(&self.previous) {
            let old = old.as_ref().map_or(std::ptr::null(), |v| v.as_ptr());
            // SAFETY: as in `new`; NULL removes the thread-local option.
            unsafe { gdal_sys::CPLSetThreadLocalConfigOption(key.as_ptr(), old) };
        }
        // SAFETY: pops the handler `new` pushed on this thread.
        unsafe { gdal_sys::CPLPopErrorHandler() };
    }
}

/// Sizes GDAL's shared block cache. A scan needs one tile row of all bands of its file cached
/// (about 14 MB for a 2000 px S2 file), so the ingest gives each worker its share.
pub fn set_block_cache_mb(megabytes: usize) {
    init_gdal();
    // SAFETY: a plain setter of a process-wide integer inside GDAL.
    unsafe { gdal_sys::GDALSetCacheMax64((megabytes as i64) << 20) };
}

/// The bytes of decoded blocks in GDAL's block cache now (all datasets of the process).
pub fn block_cache_used() -> u64 {
    // SAFETY: reads a process-wide counter inside GDAL.
    let used = unsafe { gdal_sys::GDALGetCacheUsed64() };
    used.max(0) as u64
}

/// The bytes GDAL's block cache may hold (GDAL_CACHEMAX, or our default): also the bound of
/// sen12lite's own tile store.
pub fn block_cache_max() -> usize {
    init_gdal();
    // SAFETY: reads a process-wide setting inside GDAL.
    let max = unsafe { gdal_sys::GDALGetCacheMax64() };
    usize::try_from(max.max(0)).unwrap_or(usize::MAX)
}

/// Drops the dataset's decoded tiles from GDAL's block cache; its next read decodes them again.
pub fn drop_decoded_tiles(dataset: &Dataset) {
    // SAFETY: an open dataset, used by this thread alone; it is read-only, so GDAL's flush writes
    // nothing back and frees its bands' cached blocks (GDAL 3.7 returns an error code, 3.6 nothing:
    // there is nothing to write that could fail).
    unsafe { gdal_sys::GDALFlushCache(dataset.c_dataset()) };
}

/// Opens a GeoTIFF read-only. Only the GTiff driver is allowed, so a crafted name cannot make
/// GDAL open another format or a network location. Callers hold a [`QuietGdal`] while they use it.
pub fn open_geotiff(path: &Path) -> Result<Dataset> {
    init_gdal();
    let options = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_RASTER
            | GdalOpenFlags::GDAL_OF_READONLY
            | GdalOpenFlags::GDAL_OF_VERBOSE_ERROR,
        allowed_drivers: Some(&["GTiff"]),
        // No side files to look for: inside an archive or on a network file system, looking
        // means listing the archive or the bucket's folder (a request) on every open.
        sibling_files: is_virtual(path).then_some(&[]),
        ..Default::default()
    };
    let refused = |reason| RasterError::Open { path: path.display().to_string(), reason };
    let dataset = Dataset::open_ex(path, options).map_err(|e| refused(gdal_message(&e)))?;
    check_block_size(&dataset).map_err(refused)?;
    Ok(dataset)
}

/// The most bytes one block of all bands may hold when it holds more than the whole raster (and
/// the largest tile [`super::tiles::RawTiles`] reads itself).
pub const MAX_BLOCK_BYTES: usize = 32 << 20;

/// A header whose blocks hold more than the whole raster, and more than [`MAX_BLOCK_BYTES`], is
/// damaged: GDAL would allocate such a block to read any pixel of it, and keep it in its cache
/// (a 32 px file claiming tiles of 65535 x 256 px of 13 bands: 436 MB at each read, which in a
/// host capped at 2 GB of address space left no memory for the next thread).
fn check_block_size(dataset: &Dataset) -> std::result::Result<(), String> {
    let Ok(first) = dataset.rasterband(1) else { return Ok(()) };
    let ((width, height), (block_width, block_height)) = (dataset.raster_size(), first.block_size());
    let pixel_bytes = dataset.raster_count().saturating_mul(first.band_type().bytes() as usize);
    let bytes = |columns: usize, rows: usize| columns.saturating_mul(rows).saturating_mul(pixel_bytes);
    let block = bytes(block_width, block_height);
    if block > MAX_BLOCK_BYTES && block > bytes(width, height) {
        return Err(format!(
            "its header claims blocks of {block_width} x {block_height} px ({} MiB of all bands) for a raster of \
             {width} x {height} px: a damaged header",
            block >> 20
        ));
    }
    Ok(())
}

/// Whether GDAL reads `path` through one of its virtual file systems (`/vsitar/`, `/vsis3/`, ...).
pub fn is_virtual(path: &Path) -> bool {
    path.as_os_str().as_encoded_bytes().starts_with(b"/vsi")
}

/// GDAL's own message of an error, without the gdal crate's class and number decoration.
pub fn gdal_message(error: &gdal::errors::GdalError) -> String {
    match error {
        gdal::errors::GdalError::CplError { msg, .. } | gdal::errors::GdalError::NullPointer { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

/// GDAL's message of the last error on this thread (after a raw gdal_sys call failed).
pub fn last_gdal_error() -> String {
    // SAFETY: CPLGetLastErrorMsg returns a NUL-terminated string owned by GDAL (never NULL).
    unsafe { CStr::from_ptr(gdal_sys::CPLGetLastErrorMsg()) }.to_string_lossy().into_owned()
}

/// The GDAL path of a file inside an archive: `/vsizip/{archive}/{member}` for a zip, else
/// `/vsitar/…` (which reads `.tar`, `.tar.gz` and `.tgz`).
pub fn member_path(archive: &Path, member: &str) -> PathBuf {
    let scheme = if archive.to_string_lossy().ends_with(".zip") { "/vsizip/" } else { "/vsitar/" };
    PathBuf::from(format!("{scheme}{}/{member}", archive.display()))
}

/// The archive on disk and the member of a path made by [`member_path`]; None for any other path.
pub fn archive_member(path: &Path) -> Option<(PathBuf, String)> {
    let inside = ["/vsitar/", "/vsizip/"].iter().find_map(|scheme| path.to_str()?.strip_prefix(scheme))?;
    let archive = Path::new(inside).ancestors().find(|p| p.is_file())?;
    let member = Path::new(inside).strip_prefix(archive).ok()?;
    Some((archive.to_path_buf(), member.to_string_lossy().into_owned()))
}

/// A name in GDAL's in-memory file system no other call of this process uses:
/// `/vsimem/sen12lite_{what}_{pid}_{n}.{extension}`.
pub fn unique_vsimem_path(what: &str, extension: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("/vsimem/sen12lite_{what}_{}_{}.{extension}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// WGS84 lon/lat in lon, lat order (GDAL 3 defaults to the EPSG lat, lon order).
pub fn lonlat_srs() -> Result<gdal::spatial_ref::SpatialRef> {
    let mut srs = gdal::spatial_ref::SpatialRef::from_epsg(4326).map_err(|e| georeference("no WGS84", e))?;
    srs.set_axis_mapping_strategy(gdal::spatial_ref::AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

/// Lon/lat of positions `(col, row)` in pixel units of a georeferenced raster (0.5 is the
/// middle of the first pixel, the raster's width its right edge).
pub fn pixels_to_lonlat(dataset: &gdal::Dataset, positions: &[(f64, f64)]) -> Result<Vec<[f64; 2]>> {
    apply_to_pixels(&transform_to_lonlat(dataset)?, dataset, positions)
}

/// The transformation from the raster's CRS to lon/lat.
pub fn transform_to_lonlat(dataset: &gdal::Dataset) -> Result<gdal::spatial_ref::CoordTransform> {
    let source = dataset.spatial_ref().map_err(|e| georeference("the raster has no CRS", e))?;
    gdal::spatial_ref::CoordTransform::new(&source, &lonlat_srs()?)
        .map_err(|e| georeference("cannot reproject to lon/lat", e))
}

/// [`pixels_to_lonlat`] through a transformation made before.
pub fn apply_to_pixels(
    transform: &gdal::spatial_ref::CoordTransform,
    dataset: &gdal::Dataset,
    positions: &[(f64, f64)],
) -> Result<Vec<[f64; 2]>> {
    let g = dataset.geo_transform().map_err(|e| georeference("the raster has no geotransform", e))?;
    let (mut xs, mut ys): (Vec<f64>, Vec<f64>) = positions.iter().map(|&(c, r)| g.apply(c, r)).unzip();
    let mut zs = vec![0.0; positions.len()];
    transform
        .transform_coords(&mut xs, &mut ys, &mut zs)
        .map_err(|e| georeference("cannot reproject to lon/lat", e))?;
    Ok(xs.into_iter().zip(ys).map(|(x, y)| [x, y]).collect())
}

/// [`RasterError::Georeference`]: what is missing or failed, and GDAL's reason.
pub fn georeference(what: &str, reason: impl std::fmt::Display) -> RasterError {
    RasterError::Georeference(format!("{what}: {reason}"))
}
