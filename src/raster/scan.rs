//! One pass over a GeoTIFF: its header, exact band statistics, and the scene measures that need
//! several bands of the same pixel (cloud fraction, valid fraction, NDVI) or a class map.

use super::indices::normalized_difference;
use super::open::{dtype_name, open_geotiff, pixels_to_lonlat, QuietGdal};
use super::optical::{OpticalCounts, OpticalMask};
use super::stats::{BandAccumulator, BandStats};
use super::strips::{for_each_strip, Unguarded, Window};
use gdal::{Dataset, Metadata};
use std::path::Path;

/// The header facts the `files` table keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct FileInfo {
    pub width: usize,
    pub height: usize,
    pub band_count: usize,
    pub dtype: String,
    pub nodata: Option<f64>,
    pub epsg: Option<i64>,
    /// GDAL's six coefficients; None when the file has no georeferencing.
    pub geotransform: Option<[f64; 6]>,
}

/// Which measures beyond per-band statistics a file feeds (0-based band indices).
#[derive(Debug, Clone)]
pub enum Measures {
    None,
    /// An S2 file: the reflectance bands, red and NIR, and the cloud probability band if any.
    Optical {
        reflectance: Vec<usize>,
        red: usize,
        nir: usize,
        cloud: Option<usize>,
        cloud_threshold: f64,
    },
    /// A land-cover map: class counts of this band.
    Classes {
        band: usize,
    },
}

#[derive(Debug, Clone)]
pub struct ScanRequest<'a> {
    /// The band names the modality must have, in order; None: take the file's own.
    pub expected_bands: Option<&'a [&'a str]>,
    /// GDAL type names band 1 may have; None: any.
    pub expected_dtypes: Option<&'a [&'a str]>,
    pub measures: Measures,
    /// Band statistics and measures (false: header only).
    pub statistics: bool,
    /// Reproject the raster's corners to lon/lat (SEN12MS, which has no metadata file).
    pub footprint: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OpticalSummary {
    pub valid_fraction: Option<f64>,
    pub cloud_fraction: Option<f64>,
    pub ndvi_mean: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct FileScan {
    pub info: FileInfo,
    pub band_names: Vec<String>,
    pub band_stats: Vec<BandStats>,
    pub optical: Option<OpticalSummary>,
    pub classes: Option<Vec<(i64, u64)>>,
    /// Closed ring of the raster's four corners in lon/lat.
    pub footprint: Option<Vec<[f64; 2]>>,
    /// (stage, message) of what was found wrong but did not stop the file from being catalogued.
    pub warnings: Vec<(&'static str, String)>,
}

/// Exact percentiles of float bands keep every valid value; past this a file is catalogued
/// without statistics instead of letting the ingest's memory grow with the raster.
pub const MAX_FLOAT_VALUE_BYTES: usize = 512 << 20;

pub fn scan_file(path: &Path, request: &ScanRequest) -> Result<FileScan, String> {
    let _quiet = QuietGdal::new();
    let dataset = open_geotiff(path)?;
    let info = file_info(&dataset)?;
    let band_names = band_names(&dataset, &info, request.expected_bands)?;
    let footprint = if request.footprint { Some(footprint(&dataset, &info)?) } else { None };
    check_dtype(&info.dtype, request.expected_dtypes)?;
    let mut scan = FileScan {
        info,
        band_names,
        band_stats: Vec::new(),
        optical: None,
        classes: None,
        footprint,
        warnings: Vec::new(),
    };
    if request.statistics {
        match float_value_bytes(&dataset, &scan.info) {
            bytes if bytes > MAX_FLOAT_VALUE_BYTES => scan.warnings.push((
                "statistics",
                format!(
                    "catalogued without statistics: exact percentiles of its float bands would hold {} MiB \
                     (limit {} MiB)",
                    bytes >> 20,
                    MAX_FLOAT_VALUE_BYTES >> 20
                ),
            )),
            _ => read_all_strips(&dataset, &mut scan, &request.measures)?,
        }
    }
    Ok(scan)
}

/// A modality's values only fit some types: reflectance x 10000 needs 16 bits, dB are signed,
/// class codes are small integers. A file of another type is a different product or a broken one.
fn check_dtype(dtype: &str, allowed: Option<&[&str]>) -> Result<(), String> {
    match allowed {
        Some(allowed) if !allowed.contains(&dtype) => {
            Err(format!("wrong data type: {dtype}, expected one of {}", allowed.join(", ")))
        }
        _ => Ok(()),
    }
}

/// Bytes the statistics of the file's float bands keep (4 or 8 per pixel and band).
fn float_value_bytes(dataset: &Dataset, info: &FileInfo) -> usize {
    let pixels = info.width.saturating_mul(info.height);
    (1..=info.band_count)
        .filter_map(|i| dataset.rasterband(i).ok())
        .map(|band| pixels.saturating_mul(BandAccumulator::bytes_per_kept_value(&dtype_name(&band))))
        .fold(0, usize::saturating_add)
}

fn file_info(dataset: &Dataset) -> Result<FileInfo, String> {
    let (width, height) = dataset.raster_size();
    let band_count = dataset.raster_count();
    let first = dataset.rasterband(1).map_err(|e| format!("no band 1: {e}"))?;
    let epsg = dataset.spatial_ref().ok().and_then(|srs| srs.auth_code().ok()).map(i64::from);
    let geotransform = dataset.geo_transform().ok();
    Ok(FileInfo {
        width,
        height,
        band_count,
        dtype: dtype_name(&first),
        nodata: first.no_data_value(),
        epsg,
        geotransform,
    })
}

fn band_names(dataset: &Dataset, info: &FileInfo, expected: Option<&[&str]>) -> Result<Vec<String>, String> {
    if let Some(names) = expected {
        if names.len() != info.band_count {
            return Err(format!(
                "wrong band count: {} bands, expected {} ({})",
                info.band_count,
                names.len(),
                names.join(", ")
            ));
        }
        return Ok(names.iter().map(|n| n.to_string()).collect());
    }
    (1..=info.band_count)
        .map(|i| {
            let band = dataset.rasterband(i).map_err(|e| format!("band {i}: {e}"))?;
            let description = band.description().unwrap_or_default();
            Ok(if description.trim().is_empty() { format!("b{i}") } else { description })
        })
        .collect()
}

fn footprint(dataset: &Dataset, info: &FileInfo) -> Result<Vec<[f64; 2]>, String> {
    let (w, h) = (info.width as f64, info.height as f64);
    pixels_to_lonlat(dataset, &[(0.0, 0.0), (0.0, h), (w, h), (w, 0.0), (0.0, 0.0)])
        .map_err(|e| format!("cannot place the footprint: {e}"))
}

fn read_all_strips(dataset: &Dataset, scan: &mut FileScan, measures: &Measures) -> Result<(), String> {
    let (width, height, bands) = (scan.info.width, scan.info.height, scan.info.band_count);
    let mut accumulators = Vec::with_capacity(bands);
    for i in 1..=bands {
        let band = dataset.rasterband(i).map_err(|e| format!("band {i}: {e}"))?;
        accumulators.push(BandAccumulator::new(&dtype_name(&band), band.no_data_value()));
    }
    let mask = match measures {
        Measures::Optical { reflectance, cloud, cloud_threshold, .. } => {
            let tagged = |b: usize| (b, accumulators.get(b).and_then(BandAccumulator::nodata));
            Some(OpticalMask {
                reflectance: reflectance.iter().map(|&b| tagged(b)).collect(),
                cloud: cloud.map(tagged),
                threshold: *cloud_threshold,
            })
        }
        _ => None,
    };
    let ndvi_mask = match (&mask, measures) {
        (Some(mask), Measures::Optical { red, nir, .. }) => Some(mask.restricted_to(&[*nir, *red])),
        _ => None,
    };
    let ndvi = |strips: &[Vec<f64>], i: usize| match measures {
        Measures::Optical { red, nir, .. } => normalized_difference(strips[*nir][i], strips[*red][i]),
        _ => f64::NAN,
    };
    let mut optical = OpticalCounts::default();
    let all_bands: Vec<usize> = (1..=bands).collect();
    for_each_strip(dataset, &all_bands, Window::whole(width, height), &mut Unguarded, |strips, pixels| {
        for (accumulator, strip) in accumulators.iter_mut().zip(strips) {
            accumulator.push(&strip[..pixels]);
        }
        if let (Some(mask), Some(ndvi_mask)) = (&mask, &ndvi_mask) {
            optical.add_strip(mask, ndvi_mask, strips, pixels, &ndvi);
        }
    })?;
    if let Measures::Classes { band } = measures {
        scan.classes = accumulators.get(*band).and_then(BandAccumulator::class_counts);
    }
    if let Some(mask) = &mask {
        scan.optical = Some(OpticalSummary {
            valid_fraction: optical.valid_fraction(),
            cloud_fraction: mask.cloud.and(optical.cloud_fraction()),
            ndvi_mean: optical.index_mean(),
        });
    }
    scan.band_stats = accumulators.into_iter().map(BandAccumulator::finish).collect();
    Ok(())
}
