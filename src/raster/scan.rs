//! One pass over a GeoTIFF: its header, exact band statistics, and the scene measures that need
//! several bands of the same pixel (cloud fraction, valid fraction, NDVI) or a class map.

use super::open::{dtype_name, open_geotiff};
use super::stats::{BandAccumulator, BandStats};
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::{Dataset, Metadata};
use std::path::Path;

/// Values held for one strip of all bands, as f64. Bounds the scan's memory whatever the raster size.
const STRIP_BYTES: usize = 16 << 20;

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
    Optical { reflectance: Vec<usize>, red: usize, nir: usize, cloud: Option<usize>, cloud_threshold: f64 },
    /// A land-cover map: class counts of this band.
    Classes { band: usize },
}

#[derive(Debug, Clone)]
pub struct ScanRequest<'a> {
    /// The band names the modality must have, in order; None: take the file's own.
    pub expected_bands: Option<&'a [&'a str]>,
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
}

pub fn scan_file(path: &Path, request: &ScanRequest) -> Result<FileScan, String> {
    let dataset = open_geotiff(path)?;
    let info = file_info(&dataset)?;
    let band_names = band_names(&dataset, &info, request.expected_bands)?;
    let footprint = if request.footprint { Some(footprint(&dataset, &info)?) } else { None };
    let mut scan = FileScan { info, band_names, band_stats: Vec::new(), optical: None, classes: None, footprint };
    if request.statistics {
        read_all_strips(&dataset, &mut scan, &request.measures)?;
    }
    Ok(scan)
}

fn file_info(dataset: &Dataset) -> Result<FileInfo, String> {
    let (width, height) = dataset.raster_size();
    let band_count = dataset.raster_count();
    let first = dataset.rasterband(1).map_err(|e| format!("no band 1: {e}"))?;
    let epsg = dataset.spatial_ref().ok().and_then(|srs| srs.auth_code().ok()).map(i64::from);
    let geotransform = dataset.geo_transform().ok();
    Ok(FileInfo { width, height, band_count, dtype: dtype_name(&first), nodata: first.no_data_value(), epsg, geotransform })
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
    let source = dataset.spatial_ref().map_err(|e| format!("no CRS, cannot place the footprint: {e}"))?;
    let mut lonlat = SpatialRef::from_epsg(4326).map_err(|e| e.to_string())?;
    lonlat.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let transform = CoordTransform::new(&source, &lonlat).map_err(|e| format!("cannot reproject to lon/lat: {e}"))?;
    let g = info.geotransform.ok_or("no geotransform, cannot place the footprint")?;
    let (w, h) = (info.width as f64, info.height as f64);
    let corners = [(0.0, 0.0), (0.0, h), (w, h), (w, 0.0), (0.0, 0.0)];
    let mut xs: Vec<f64> = corners.iter().map(|(c, r)| g[0] + c * g[1] + r * g[2]).collect();
    let mut ys: Vec<f64> = corners.iter().map(|(c, r)| g[3] + c * g[4] + r * g[5]).collect();
    let mut zs = vec![0.0; corners.len()];
    transform.transform_coords(&mut xs, &mut ys, &mut zs).map_err(|e| format!("cannot reproject corners: {e}"))?;
    Ok(xs.into_iter().zip(ys).map(|(x, y)| [x, y]).collect())
}

fn read_all_strips(dataset: &Dataset, scan: &mut FileScan, measures: &Measures) -> Result<(), String> {
    let (width, height, bands) = (scan.info.width, scan.info.height, scan.info.band_count);
    let handles: Vec<_> = (1..=bands).map(|i| dataset.rasterband(i).map_err(|e| format!("band {i}: {e}"))).collect::<Result<_, _>>()?;
    let mut accumulators: Vec<BandAccumulator> =
        handles.iter().map(|b| BandAccumulator::new(&dtype_name(b), b.no_data_value())).collect();
    let mut optical = OpticalCounts::default();
    let rows_per_strip = (STRIP_BYTES / (8 * width.max(1) * bands.max(1))).clamp(1, height.max(1));
    let mut strips = vec![vec![0f64; width * rows_per_strip]; bands];
    for top in (0..height).step_by(rows_per_strip) {
        let rows = rows_per_strip.min(height - top);
        for (index, band) in handles.iter().enumerate() {
            let buffer = &mut strips[index][..width * rows];
            band.read_into_slice((0, top as isize), (width, rows), (width, rows), buffer, None)
                .map_err(|e| format!("read error in band {} at rows {top}..{}: {e}", index + 1, top + rows))?;
            accumulators[index].push(buffer);
        }
        if let Measures::Optical { .. } = measures {
            optical.add_strip(&strips, width * rows, &accumulators, measures);
        }
    }
    if let Measures::Classes { band } = measures {
        scan.classes = accumulators.get(*band).and_then(BandAccumulator::class_counts);
    }
    if let Measures::Optical { cloud, .. } = measures {
        scan.optical = Some(optical.summary(cloud.is_some()));
    }
    scan.band_stats = accumulators.into_iter().map(BandAccumulator::finish).collect();
    Ok(())
}

#[derive(Default)]
struct OpticalCounts {
    pixels: u64,
    valid: u64,
    cloudy: u64,
    ndvi_sum: f64,
    ndvi_count: u64,
}

impl OpticalCounts {
    /// A pixel is valid when no reflectance band is nodata; cloudy when valid and its cloud
    /// probability exceeds the threshold; NDVI is averaged over valid, cloud-free pixels.
    fn add_strip(&mut self, strips: &[Vec<f64>], pixels: usize, bands: &[BandAccumulator], measures: &Measures) {
        let Measures::Optical { reflectance, red, nir, cloud, cloud_threshold } = measures else { return };
        self.pixels += pixels as u64;
        for i in 0..pixels {
            if reflectance.iter().any(|&b| bands[b].is_nodata(strips[b][i])) {
                continue;
            }
            self.valid += 1;
            if cloud.is_some_and(|c| !bands[c].is_nodata(strips[c][i]) && strips[c][i] > *cloud_threshold) {
                self.cloudy += 1;
                continue;
            }
            let (r, n) = (strips[*red][i], strips[*nir][i]);
            if r + n != 0.0 {
                self.ndvi_sum += (n - r) / (n + r);
                self.ndvi_count += 1;
            }
        }
    }

    fn summary(&self, has_cloud_band: bool) -> OpticalSummary {
        let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        OpticalSummary {
            valid_fraction: ratio(self.valid, self.pixels),
            cloud_fraction: if has_cloud_band { ratio(self.cloudy, self.valid) } else { None },
            ndvi_mean: (self.ndvi_count > 0).then(|| self.ndvi_sum / self.ndvi_count as f64),
        }
    }
}
