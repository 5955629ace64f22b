//! One pass over a GeoTIFF: its header, exact band statistics, and the scene measures that need
//! several bands of the same pixel (cloud fraction, valid fraction, NDVI) or a class map.

use super::crs::{CrsCache, FileCrs};
use super::error::{RasterError, Result};
use super::grid::{Facts, Grid, GridPass, PatchCounts};
use super::kept_quicklook::{KeptImage, Look, QuicklookPass};
use super::open::georeference;
use super::open::{open_geotiff, QuietGdal};
use super::optical::{ndvi_at, OpticalCounts, OpticalMask};
use super::stats::{BandAccumulator, BandStats, Sample, StatsPool};
use super::strips::{for_each_strip_in, Unguarded, Window};
use super::tiles::RawTiles;
use crate::layout::{Modality, OpticalBands};
use gdal::raster::{GdalDataType, GdalType};
use gdal::{Dataset, Metadata};
use std::path::Path;

/// The header facts the `files` table keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct FileInfo {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Bands.
    pub band_count: usize,
    /// The type of band 1 (the datasets' files have one type for all bands).
    pub dtype: GdalDataType,
    /// Band 1's nodata tag, if any.
    pub nodata: Option<f64>,
    /// The EPSG code of the file's CRS, when it has one.
    pub epsg: Option<i64>,
    /// GDAL's six coefficients; None when the file has no georeferencing.
    pub geotransform: Option<[f64; 6]>,
}

/// Which measures beyond per-band statistics a file feeds (0-based band indices).
#[derive(Debug, Clone)]
pub enum Measures {
    /// Band statistics only.
    None,
    /// An S2 file: where its reflectance, red, NIR and cloud bands are, and the cloud probability
    /// (0-100) from which a pixel is cloudy.
    Optical {
        /// Where the measures' bands are in the file.
        bands: OpticalBands,
        /// Cloudy where cloud_probability is over this (percent).
        cloud_threshold: f64,
    },
    /// A land-cover map: class counts of this band.
    Classes {
        /// 0-based band of the class codes.
        band: usize,
    },
}

impl Measures {
    /// What a `modality` file of `dataset` measures: an S2 file its optical measures (cloudy over
    /// `cloud_threshold` percent), a land-cover map its classes, anything else statistics only.
    pub fn of(dataset: crate::layout::Dataset, modality: &str, cloud_threshold: f64) -> Measures {
        match dataset.modality(modality) {
            Some(Modality::S2) => Measures::Optical { bands: dataset.optical_bands(), cloud_threshold },
            Some(m) if m.legend().is_some() => Measures::Classes { band: 0 },
            _ => Measures::None,
        }
    }
}

/// What to check and measure in one file.
#[derive(Debug, Clone)]
pub struct ScanRequest<'a> {
    /// The band names the modality must have, in order; None: take the file's own.
    pub expected_bands: Option<&'a [&'a str]>,
    /// GDAL types band 1 may have; None: any.
    pub expected_dtypes: Option<&'a [GdalDataType]>,
    /// The measures beyond band statistics.
    pub measures: Measures,
    /// Band statistics and measures (false: header only).
    pub statistics: bool,
    /// Reproject the raster's corners to lon/lat (SEN12MS, which has no metadata file).
    pub footprint: bool,
    /// Count the pixels of each patch of the authors' grid (an S1, S2 or land-cover file): what an
    /// S2 file measures (cloudy above this cloud probability), where an S1 file has no data, the
    /// classes of a map. None: no grid.
    pub patch_grid: Option<f64>,
    /// Keep a quicklook of the whole file, drawn so (statistics give its stretch).
    pub quicklook: Option<Look>,
}

/// The S2 measures of a scene, as the `scenes` table keeps them.
#[derive(Debug, Clone, PartialEq)]
pub struct OpticalSummary {
    /// Pixels where every reflectance band has data, over all pixels.
    pub valid_fraction: Option<f64>,
    /// Cloudy pixels over valid pixels; None without a cloud band.
    pub cloud_fraction: Option<f64>,
    /// Mean NDVI over clear pixels where B8 and B4 have data.
    pub ndvi_mean: Option<f64>,
}

/// What one pass over a file found.
#[derive(Debug, Clone)]
pub struct FileScan {
    /// The header.
    pub info: FileInfo,
    /// Band names in file order: the dataset's, else the file's descriptions, else `b1..bn`.
    pub band_names: Vec<String>,
    /// Exact statistics of each band (empty for a header-only scan).
    pub band_stats: Vec<BandStats>,
    /// The S2 measures, for an S2 file.
    pub optical: Option<OpticalSummary>,
    /// (class code, pixels) of a land-cover map.
    pub classes: Option<Vec<(i64, u64)>>,
    /// Closed ring of the raster's four corners in lon/lat.
    pub footprint: Option<Vec<[f64; 2]>>,
    /// (stage, message) of what was found wrong but did not stop the file from being catalogued.
    pub warnings: Vec<(&'static str, String)>,
    /// The counts of each patch of the authors' grid, when they were asked for.
    pub patch_counts: Option<PatchCounts>,
    /// The kept quicklook, when one was asked for.
    pub quicklook: Option<KeptImage>,
}

/// Exact percentiles of float bands keep every valid value; past this a file is catalogued
/// without statistics instead of letting the ingest's memory grow with the raster.
pub const MAX_FLOAT_VALUE_BYTES: usize = 512 << 20;

/// What one ingest worker keeps from one file to the next, so that a 256 px patch costs its
/// pixels rather than its buffers: the strips' buffers (of the sample type files are read as),
/// zeroed histogram bins and float value buffers, and the CRSs seen so far.
#[derive(Default)]
pub struct ScanScratch {
    strips: StripBuffers,
    /// The decompressed tiles of a strip ([`RawTiles::for_each_strip`]).
    tiles: Vec<Vec<u8>>,
    pool: StatsPool,
    crs: CrsCache,
}

/// Strip buffers of each type a file's bands are read as: the bands' own type when they share
/// one (GDAL then copies without converting, and the statistics count the values as they are),
/// else i32 for 8- and 16-bit bands and f64 for the rest; f64 for the S2 measures' bands.
#[derive(Default)]
struct StripBuffers {
    u8: Vec<Vec<u8>>,
    u16: Vec<Vec<u16>>,
    i16: Vec<Vec<i16>>,
    i32: Vec<Vec<i32>>,
    f32: Vec<Vec<f32>>,
    f64: Vec<Vec<f64>>,
}

/// Opens `path`, checks it against `request` (bands, type) and reads what it asks for, with the
/// buffers of `scratch`; Err says why the file cannot be catalogued.
pub fn scan_file(path: &Path, request: &ScanRequest, scratch: &mut ScanScratch) -> Result<FileScan> {
    let _quiet = QuietGdal::new();
    let dataset = open_geotiff(path)?;
    let crs = scratch.crs.of(path, &dataset);
    let info = file_info(&dataset, crs)?;
    let band_names = band_names(&dataset, &info, request.expected_bands)?;
    let footprint = if request.footprint { Some(footprint(&dataset, &info, crs)?) } else { None };
    check_dtype(info.dtype, request.expected_dtypes)?;
    let mut scan = FileScan {
        info,
        band_names,
        band_stats: Vec::new(),
        optical: None,
        classes: None,
        footprint,
        warnings: Vec::new(),
        patch_counts: None,
        quicklook: None,
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
            _ => read_all_strips((&dataset, path), &mut scan, request, scratch)?,
        }
    }
    Ok(scan)
}

/// A modality's values only fit some types: reflectance x 10000 needs 16 bits, dB are signed,
/// class codes are small integers. A file of another type is a different product or a broken one.
fn check_dtype(dtype: GdalDataType, allowed: Option<&[GdalDataType]>) -> Result<()> {
    match allowed {
        Some(allowed) if !allowed.contains(&dtype) => {
            let names: Vec<String> = allowed.iter().map(GdalDataType::name).collect();
            Err(RasterError::DataType { found: dtype.to_string(), expected: names.join(", ") })
        }
        _ => Ok(()),
    }
}

/// Bytes the statistics of the file's float bands keep (4 or 8 per pixel and band).
fn float_value_bytes(dataset: &Dataset, info: &FileInfo) -> usize {
    let pixels = info.width.saturating_mul(info.height);
    (1..=info.band_count)
        .filter_map(|i| dataset.rasterband(i).ok())
        .map(|band| pixels.saturating_mul(BandAccumulator::bytes_per_kept_value(band.band_type())))
        .fold(0, usize::saturating_add)
}

fn file_info(dataset: &Dataset, crs: &FileCrs) -> Result<FileInfo> {
    let (width, height) = dataset.raster_size();
    let band_count = dataset.raster_count();
    let first = dataset.rasterband(1).map_err(|e| RasterError::no_band(1, e))?;
    let geotransform = dataset.geo_transform().ok();
    Ok(FileInfo {
        width,
        height,
        band_count,
        dtype: first.band_type(),
        nodata: first.no_data_value(),
        epsg: crs.epsg,
        geotransform,
    })
}

fn band_names(dataset: &Dataset, info: &FileInfo, expected: Option<&[&str]>) -> Result<Vec<String>> {
    if let Some(names) = expected {
        if names.len() != info.band_count {
            return Err(RasterError::BandCount {
                found: info.band_count,
                expected: names.len(),
                names: names.join(", "),
            });
        }
        return Ok(names.iter().map(std::string::ToString::to_string).collect());
    }
    (1..=info.band_count)
        .map(|i| {
            let band = dataset.rasterband(i).map_err(|e| RasterError::no_band(i, e))?;
            let description = band.description().unwrap_or_default();
            Ok(if description.trim().is_empty() { format!("b{i}") } else { description })
        })
        .collect()
}

fn footprint(dataset: &Dataset, info: &FileInfo, crs: &mut FileCrs) -> Result<Vec<[f64; 2]>> {
    let (w, h) = (info.width as f64, info.height as f64);
    crs.pixels_to_lonlat(dataset, &[(0.0, 0.0), (0.0, h), (w, h), (w, 0.0), (0.0, 0.0)])
        .map_err(|e| georeference("cannot place the footprint", e))
}

/// Reads every pixel once, strip by strip, feeding the band statistics and the file's measures.
fn read_all_strips(
    (dataset, path): (&Dataset, &Path),
    scan: &mut FileScan,
    request: &ScanRequest,
    scratch: &mut ScanScratch,
) -> Result<()> {
    let (bands, measures) = (scan.info.band_count, &request.measures);
    let (width, height) = (scan.info.width, scan.info.height);
    // Within MAX_FLOAT_VALUE_BYTES of kept values: scan_file has checked.
    let mut accumulators = band_accumulators(dataset, bands, width * height, &mut scratch.pool)?;
    let mut optical = match measures {
        Measures::Optical { bands, cloud_threshold } => Some(OpticalPass::new(bands, *cloud_threshold, &accumulators)),
        _ => None,
    };
    let facts = || grid_facts(measures, &accumulators);
    let mut grid = request.patch_grid.map(|_| GridPass::new(Grid::authors(width, height), width, facts()));
    let mut look = request.quicklook.clone().map(|look| QuicklookPass::new(width, height, look));
    let tiles = RawTiles::of(dataset, path);
    let (window, tile_buffers) = (Window::whole(width, height), &mut scratch.tiles);
    let mut pass = StripPass { dataset, tiles, tile_buffers, window, bands };
    let (buffers, to) = (&mut scratch.strips, (&mut accumulators[..], &mut optical, &mut grid, &mut look));
    match common_type(dataset, bands) {
        Some(GdalDataType::UInt8) => pass.run(&mut buffers.u8, to, BandAccumulator::push_integers),
        Some(GdalDataType::UInt16) => pass.run(&mut buffers.u16, to, BandAccumulator::push_integers),
        Some(GdalDataType::Int16) => pass.run(&mut buffers.i16, to, BandAccumulator::push_integers),
        Some(GdalDataType::Float32) => pass.run(&mut buffers.f32, to, BandAccumulator::push_f32s),
        _ if to.0.iter().all(BandAccumulator::counts_integers) => {
            pass.run(&mut buffers.i32, to, BandAccumulator::push_integers)
        }
        _ => pass.run(&mut buffers.f64, to, BandAccumulator::push),
    }?;
    if let Measures::Classes { band } = measures {
        scan.classes = accumulators.get(*band).and_then(BandAccumulator::class_counts);
    }
    scan.optical = optical.map(|o| o.summary());
    scan.patch_counts = grid.zip(request.patch_grid).map(|(grid, threshold)| grid.finish(threshold));
    let tags: Vec<Option<f64>> = accumulators.iter().map(BandAccumulator::nodata).collect();
    scan.band_stats = accumulators.into_iter().map(|a| a.finish_into(&mut scratch.pool)).collect();
    if let (Some(pass), Some(drawn)) = (look, &request.quicklook) {
        // A quicklook that cannot be made leaves the file catalogued: the warning is an ingest_errors
        // row, and s12_png(scene, what) draws one from the file when asked.
        match pass.finish(&drawn_of(drawn, &tags), &stretch_of(drawn, &scan.band_stats)) {
            Ok(image) => scan.quicklook = image,
            Err(error) => scan.warnings.push(("quicklook", error.to_string())),
        }
    }
    Ok(())
}

/// The type all bands of the file share, if they do.
fn common_type(dataset: &Dataset, bands: usize) -> Option<GdalDataType> {
    let types: Vec<GdalDataType> =
        (1..=bands).filter_map(|i| dataset.rasterband(i).ok()).map(|b| b.band_type()).collect();
    let first = *types.first()?;
    (types.len() == bands && types.iter().all(|t| *t == first)).then_some(first)
}

/// What a file tells the patch grid, from its measures: an S2 file its classes and NDVI, a map its
/// classes, any other file (S1) where a band has no data.
fn grid_facts(measures: &Measures, accumulators: &[BandAccumulator]) -> Facts {
    let tag = |band: usize| accumulators.get(band).and_then(BandAccumulator::nodata);
    match measures {
        Measures::Optical { .. } => Facts::Optical,
        Measures::Classes { band } => Facts::Classes { band: *band, tag: tag(*band) },
        Measures::None => Facts::AnyNodata((0..accumulators.len()).map(|band| (band, tag(band))).collect()),
    }
}

/// The nodata tags of the bands a look draws.
fn drawn_of(look: &Look, tags: &[Option<f64>]) -> Vec<Option<f64>> {
    look.bands().iter().map(|band| tags.get(*band).copied().flatten()).collect()
}

/// The 2nd and 98th percentiles of the bands a look draws, from the file's statistics (a class
/// look ignores them).
fn stretch_of(look: &Look, stats: &[BandStats]) -> Vec<Option<(f64, f64)>> {
    let bounds = |band: &usize| stats.get(*band)?.summary.as_ref().map(|s| (s.percentiles[0], s.percentiles[2]));
    look.bands().iter().map(bounds).collect()
}

/// What a pass feeds: each band's accumulator, the S2 measures of an S2 file, the patch grid, the
/// kept quicklook.
type Targets<'a> =
    (&'a mut [BandAccumulator], &'a mut Option<OpticalPass>, &'a mut Option<GridPass>, &'a mut Option<QuicklookPass>);

/// Every band of a file, strip by strip, into its accumulators and the S2 measures.
struct StripPass<'a> {
    dataset: &'a Dataset,
    /// The file's tiles, when they are decompressed here rather than by GDAL.
    tiles: Option<RawTiles>,
    tile_buffers: &'a mut Vec<Vec<u8>>,
    window: Window,
    bands: usize,
}

impl StripPass<'_> {
    /// Reads the bands as `T` into `buffers` (the file's own type, so GDAL copies without
    /// converting), hands each band's strip to `push`, and the strip of all bands to the S2
    /// measures and the patch grid.
    fn run<T: GdalType + Default + Sample>(
        &mut self,
        buffers: &mut Vec<Vec<T>>,
        (accumulators, optical, grid, look): Targets,
        push: impl Fn(&mut BandAccumulator, &[T]),
    ) -> Result<()> {
        let all_bands: Vec<usize> = (1..=self.bands).collect();
        let mut visit = |strips: &[Vec<T>], pixels: usize| {
            for (accumulator, strip) in accumulators.iter_mut().zip(strips) {
                push(accumulator, &strip[..pixels]);
            }
            if let Some(optical) = optical.as_mut() {
                optical.add_strip(strips, pixels);
            }
            if let Some(grid) = grid.as_mut() {
                grid.add_strip(strips, pixels, optical.as_ref().map(|o| o.counts.strip()));
            }
            if let Some(look) = look.as_mut() {
                look.add_strip(strips, pixels);
            }
        };
        if let Some(tiles) = self.tiles.as_mut() {
            if tiles.for_each_strip(self.dataset, &all_bands, self.window, buffers, self.tile_buffers, &mut visit)? {
                return Ok(());
            }
        }
        for_each_strip_in(self.dataset, &all_bands, self.window, &mut Unguarded, buffers, visit)
    }
}

/// One accumulator per band of `pixels` pixels, with the band's type and nodata tag.
fn band_accumulators(
    dataset: &Dataset,
    bands: usize,
    pixels: usize,
    pool: &mut StatsPool,
) -> Result<Vec<BandAccumulator>> {
    (1..=bands)
        .map(|i| {
            let band = dataset.rasterband(i).map_err(|e| RasterError::no_band(i, e))?;
            Ok(BandAccumulator::new_in(band.band_type(), band.no_data_value(), pixels, pool))
        })
        .collect()
}

/// The S2 measures of a pass: valid and cloudy pixels under the catalog's mask, and NDVI over
/// the clear pixels where its own two bands have data.
struct OpticalPass {
    mask: OpticalMask,
    ndvi_mask: OpticalMask,
    red: usize,
    nir: usize,
    counts: OpticalCounts,
}

impl OpticalPass {
    /// A reflectance band none of whose values can be nodata (an integer band without a tag, as
    /// SEN12MS's) never makes a pixel invalid, so the mask does not look at it.
    fn new(bands: &OpticalBands, threshold: f64, accumulators: &[BandAccumulator]) -> OpticalPass {
        let tagged = |b: usize| (b, accumulators.get(b).and_then(BandAccumulator::nodata));
        let can_be_nodata = |b: &usize| accumulators.get(*b).is_none_or(BandAccumulator::can_be_nodata);
        let mask = OpticalMask {
            reflectance: bands.reflectance.clone().filter(can_be_nodata).map(tagged).collect(),
            cloud: bands.cloud.map(tagged),
            threshold,
        };
        let ndvi_mask = mask.restricted_to(&[bands.nir, bands.red]);
        OpticalPass { mask, ndvi_mask, red: bands.red, nir: bands.nir, counts: OpticalCounts::default() }
    }

    fn add_strip<T: Sample>(&mut self, strips: &[Vec<T>], pixels: usize) {
        self.counts.add_strip(&self.mask, &self.ndvi_mask, strips, pixels, ndvi_at(self.nir, self.red));
    }

    fn summary(&self) -> OpticalSummary {
        OpticalSummary {
            valid_fraction: self.counts.valid_fraction(),
            cloud_fraction: self.mask.cloud.and(self.counts.cloud_fraction()),
            ndvi_mean: self.counts.index_mean(),
        }
    }
}
