//! `s12_patches(scene [, size, stride])` -> `col, row, width, height, cloud_fraction,
//! nodata_fraction, ndvi_mean, landcover` for every patch of the grid that fits inside the raster
//! (256 px at stride 249 by default, the SEN12TP authors' grid); `landcover` is the class mix of
//! the scene's land-cover map under the patch (WorldCover, or SEN12MS's IGBP band), as JSON.
//!
//! A pixel is nodata when any S2 reflectance band or any S1 band has no data there; the cloud
//! fraction and NDVI follow the catalog's rules over the S2-valid pixels, so
//! `cloud_fraction <= 0.001 AND nodata_fraction = 0` keeps the patches FilteredSEN12TP keeps.

use crate::catalog::cloud_threshold;
use crate::catalog::read::SceneRow;
use crate::layout::{Dataset, Modality};
use crate::raster::indices::normalized_difference;
use crate::raster::optical::PixelClass;
use crate::raster::optical::{cloud_band, mask_of, nodata_tags};
use crate::raster::stats::is_nodata;
use crate::raster::strips::{for_each_strip, Window};
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::fail;
use crate::sql::runtime::error::{CallError, CallResult};
use crate::sql::runtime::limits::Limits;
use crate::sql::runtime::resolve::{self, modalities_on_disk, Target};
use crate::sql::runtime::session::{Call, Session};
use crate::sql::runtime::table::TableFunction;
use rusqlite::types::Value;
use rusqlite::{Connection, Result};
use std::collections::BTreeMap;

const F: &str = "s12_patches";
const DEFAULT_SIZE: i64 = 256;
const DEFAULT_STRIDE: i64 = 249;

pub(crate) struct Patches {
    grid: Grid,
    sources: Sources,
    /// The scene has a land-cover map on the patches' grid: without one, the mix is NULL.
    mapped: bool,
    /// The S2 file has a cloud band: without one, cloud fractions are NULL (nobody measured them).
    clouds_measured: bool,
    /// The row of patches computed last (rows come a row of patches at a time), and its patches.
    patch_row: Option<usize>,
    patches: Vec<Patch>,
}

/// The files a row of patches is read from, and the cloud rule.
struct Sources {
    /// S2, with its 1-based B8 and B4 band numbers.
    s2: Option<(Target, [usize; 2])>,
    s1: Option<Target>,
    map: Option<Target>,
    threshold: f64,
}

/// Where a patch is and what its pixels are.
#[derive(Debug, Clone, Default)]
struct Patch {
    /// Pixels of each land-cover class with data in the map.
    classes: BTreeMap<i64, u64>,
    col: usize,
    row: usize,
    nodata: u64,
    s2_valid: u64,
    cloudy: u64,
    ndvi_sum: f64,
    ndvi_count: u64,
}

/// The grid: how many patches fit along each axis.
#[derive(Debug, Clone, Copy)]
struct Grid {
    size: usize,
    stride: usize,
    across: usize,
    down: usize,
}

impl Grid {
    /// The grid, refused before anything is read or allocated when it has more patches, or a row
    /// of patches more values, than `limits` allow.
    fn new(raster: (usize, usize), size: i64, stride: i64, limits: &Limits) -> CallResult<Grid> {
        if !(1..=65_536).contains(&size) {
            return Err(CallError::Invalid(format!("size must be 1..65536 px, got {size}")));
        }
        if !(1..=65_536).contains(&stride) {
            return Err(CallError::Invalid(format!("stride must be 1..65536 px, got {stride}")));
        }
        let (size, stride) = (size as usize, stride as usize);
        let fit = |extent: usize| if extent < size { 0 } else { (extent - size) / stride + 1 };
        let grid = Grid { size, stride, across: fit(raster.0), down: fit(raster.1) };
        let count = grid.across.saturating_mul(grid.down);
        limits.patches.check(count as u64, |max| {
            format!("{count} patches of {size} px at stride {stride} is over the limit of {max}")
        })?;
        let row_values = (size as u64).saturating_mul(raster.0 as u64);
        limits.window_values.check(row_values, |max| {
            format!("a row of {size} px patches across {} px is over the limit of {max} values", raster.0)
        })?;
        Ok(grid)
    }

    /// The pixels a row of patches covers: full patch height, from column 0 to the last patch's edge.
    fn band(&self, patch_row: usize) -> Window {
        let width = if self.across == 0 { 0 } else { (self.across - 1) * self.stride + self.size };
        Window { col: 0, row: patch_row * self.stride, width, height: self.size }
    }
}

/// Per pixel of one row of patches: S2 class (or None without S2), S1 nodata, NDVI (NaN where
/// its inputs have no data or a cloud covers it), land-cover class (None without data or map).
struct BandPixels {
    s2: Vec<Option<PixelClass>>,
    s1_nodata: Vec<bool>,
    ndvi: Vec<f64>,
    classes: Vec<Option<i64>>,
}

impl TableFunction for Patches {
    const NAME: &'static str = F;
    const COLUMNS: &'static [&'static str] =
        &["col", "row", "width", "height", "cloud_fraction", "nodata_fraction", "ndvi_mean", "landcover"];
    const ARGUMENTS: &'static [&'static str] = &["scene", "size", "stride"];
    const REQUIRED: usize = 1;

    fn rows(conn: &Connection, session: &Session, arguments: &[Value]) -> Result<Option<Self>> {
        let Some(scene) = arguments::scene(F, arguments, 0)? else { return Ok(None) };
        let size = arguments::integer(F, arguments, 1, "size")?.unwrap_or(DEFAULT_SIZE);
        let stride = arguments::integer(F, arguments, 2, "stride")?.unwrap_or(DEFAULT_STRIDE);
        let scene = resolve::scene(conn, F, &scene)?;
        let (s2, s1) = (
            resolve::optional_file_of(conn, F, &scene, Modality::S2.name())?,
            resolve::optional_file_of(conn, F, &scene, Modality::S1.name())?,
        );
        if s2.is_none() && s1.is_none() {
            return Err(fail(
                F,
                format!("scene {} has no s1 or s2 file ({})", scene.name, modalities_on_disk(conn, &scene)?),
            ));
        }
        let mut call = session.call(F, conn);
        let raster = common_size(&mut call, s2.as_ref(), s1.as_ref())?;
        let grid = Grid::new(raster, size, stride, &session.limits).map_err(|e| fail(F, e))?;
        let map = land_cover_map(conn, &mut call, &scene, raster)?;
        let clouds_measured = s2.as_ref().is_some_and(|t| cloud_band(&t.band_names).is_some());
        let s2 = match s2 {
            Some(target) => {
                let bands = [target.band(F, "B8")?, target.band(F, "B4")?];
                Some((target, bands))
            }
            None => None,
        };
        let mapped = map.is_some();
        let sources = Sources { s2, s1, map, threshold: cloud_threshold(conn) };
        Ok(Some(Patches { grid, sources, mapped, clouds_measured, patch_row: None, patches: Vec::new() }))
    }

    fn len(&self) -> usize {
        self.grid.across * self.grid.down
    }

    fn ready(&self, row: usize) -> bool {
        self.patch_row == Some(row / self.grid.across)
    }

    /// Reads the row of patches that holds `row`: the first row comes after one read of
    /// `size` raster rows, and memory holds one row of patches whatever the grid.
    fn fill(&mut self, conn: &Connection, session: &Session, row: usize) -> Result<()> {
        let patch_row = row / self.grid.across;
        let band = self.grid.band(patch_row);
        let pixels = read_band(&mut session.call(F, conn), &self.sources, band)?;
        self.patches =
            (0..self.grid.across).map(|j| count_patch(&pixels, band, j * self.grid.stride, self.grid.size)).collect();
        self.patch_row = Some(patch_row);
        Ok(())
    }

    fn value(&self, row: usize, column: usize) -> Value {
        let p = &self.patches[row % self.grid.across];
        let size = self.grid.size;
        let pixels = (size * size) as f64;
        let fraction =
            |part: u64, whole: u64| if whole == 0 { Value::Null } else { Value::Real(part as f64 / whole as f64) };
        match column {
            0 => Value::Integer(p.col as i64),
            1 => Value::Integer(p.row as i64),
            2 | 3 => Value::Integer(size as i64),
            4 if self.clouds_measured => fraction(p.cloudy, p.s2_valid),
            4 => Value::Null,
            5 => Value::Real(p.nodata as f64 / pixels),
            6 if p.ndvi_count == 0 => Value::Null,
            6 => Value::Real(p.ndvi_sum / p.ndvi_count as f64),
            _ if self.mapped => class_mix(&p.classes),
            _ => Value::Null,
        }
    }
}

/// `{"10":0.25,"40":0.75}`: each class's share of the patch's pixels with data in the map, by
/// class code in numeric order; NULL when no pixel has data.
fn class_mix(classes: &BTreeMap<i64, u64>) -> Value {
    let total: u64 = classes.values().sum();
    if total == 0 {
        return Value::Null;
    }
    let shares: Vec<String> =
        classes.iter().map(|(class, count)| format!("\"{class}\":{}", *count as f64 / total as f64)).collect();
    Value::Text(format!("{{{}}}", shares.join(",")))
}

/// The scene's land-cover map (WorldCover, SEN12MS's `lc`), when it is on disk and on the grid of
/// the S1/S2 files; None otherwise (the mix is then NULL, not an error).
fn land_cover_map(
    conn: &Connection,
    call: &mut Call,
    scene: &SceneRow,
    raster: (usize, usize),
) -> Result<Option<Target>> {
    let Some(modality) = scene.dataset.and_then(Dataset::land_cover) else { return Ok(None) };
    let Some(map) = resolve::optional_file_of(conn, F, scene, modality.name())? else { return Ok(None) };
    let size = call.with_dataset(&map, |dataset, _| Ok(dataset.raster_size()))?;
    Ok((size == raster).then_some(map))
}

fn common_size(call: &mut Call, s2: Option<&Target>, s1: Option<&Target>) -> Result<(usize, usize)> {
    let sizes: Vec<(usize, usize)> =
        s2.iter().chain(s1.iter()).map(|t| call.with_dataset(t, |d, _| Ok(d.raster_size()))).collect::<Result<_>>()?;
    if sizes.windows(2).any(|pair| pair[0] != pair[1]) {
        return Err(fail(
            F,
            format!("s2 is {} x {} px but s1 is {} x {} px", sizes[0].0, sizes[0].1, sizes[1].0, sizes[1].1),
        ));
    }
    Ok(sizes[0])
}

/// Classifies every pixel of one row of patches, reading the map, S2 then S1 (one open dataset
/// at a time).
fn read_band(call: &mut Call, sources: &Sources, band: Window) -> Result<BandPixels> {
    let threshold = sources.threshold;
    let mut pixels = BandPixels {
        s2: vec![None; band.pixels()],
        s1_nodata: vec![false; band.pixels()],
        ndvi: vec![f64::NAN; band.pixels()],
        classes: vec![None; band.pixels()],
    };
    if let Some(target) = &sources.map {
        call.with_dataset(target, |dataset, guard| {
            let tag = nodata_tags(dataset, &[1])?[0];
            let mut offset = 0;
            for_each_strip(dataset, &[1], band, guard, |strips, count| {
                for (i, &code) in strips[0][..count].iter().enumerate() {
                    pixels.classes[offset + i] = (!is_nodata(code, tag)).then_some(code as i64);
                }
                offset += count;
            })?;
            Ok(())
        })?;
    }
    if let Some((target, [nir, red])) = &sources.s2 {
        let (nir, red) = (*nir, *red);
        let read: Vec<usize> = (1..=target.band_names.len()).collect();
        call.with_dataset(target, |dataset, guard| {
            let mask = mask_of(dataset, &target.band_names, &read, threshold)?;
            let ndvi_mask = mask.restricted_to(&[nir - 1, red - 1]);
            let mut offset = 0;
            for_each_strip(dataset, &read, band, guard, |strips, count| {
                for i in 0..count {
                    pixels.s2[offset + i] = Some(mask.classify(strips, i));
                    if ndvi_mask.classify(strips, i) == PixelClass::Clear {
                        pixels.ndvi[offset + i] = normalized_difference(strips[nir - 1][i], strips[red - 1][i]);
                    }
                }
                offset += count;
            })?;
            Ok(())
        })?;
    }
    if let Some(target) = &sources.s1 {
        let read: Vec<usize> = (1..=target.band_names.len()).collect();
        call.with_dataset(target, |dataset, guard| {
            // S1 has no cloud band: the mask's only rule is that every band has data.
            let mask = mask_of(dataset, &target.band_names, &read, threshold)?;
            let mut offset = 0;
            for_each_strip(dataset, &read, band, guard, |strips, count| {
                for i in 0..count {
                    pixels.s1_nodata[offset + i] = mask.classify(strips, i) == PixelClass::Invalid;
                }
                offset += count;
            })?;
            Ok(())
        })?;
    }
    Ok(pixels)
}

/// The counts of the patch whose left edge is column `left` of the band.
fn count_patch(pixels: &BandPixels, band: Window, left: usize, size: usize) -> Patch {
    let mut patch = Patch { col: left, row: band.row, ..Patch::default() };
    for y in 0..size {
        for i in (y * band.width + left)..(y * band.width + left + size) {
            let s2 = pixels.s2[i];
            if pixels.s1_nodata[i] || s2 == Some(PixelClass::Invalid) {
                patch.nodata += 1;
            }
            if s2 == Some(PixelClass::Cloudy) {
                patch.cloudy += 1;
            }
            // NaN unless the NDVI inputs have data and the pixel is cloud-free.
            if pixels.ndvi[i].is_finite() {
                patch.ndvi_sum += pixels.ndvi[i];
                patch.ndvi_count += 1;
            }
            if matches!(s2, Some(PixelClass::Cloudy | PixelClass::Clear)) {
                patch.s2_valid += 1;
            }
            if let Some(class) = pixels.classes[i] {
                *patch.classes.entry(class).or_default() += 1;
            }
        }
    }
    patch
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_what_fits_and_is_bounded_before_reading() {
        // The authors' grid on a 2000 px scene: (2000 - 256) / 249 + 1 = 8 a side.
        let limits = Limits::built_in();
        let grid = Grid::new((2000, 2000), 256, 249, &limits).unwrap();
        assert_eq!((grid.across, grid.down), (8, 8));
        assert_eq!(grid.band(7), Window { col: 0, row: 7 * 249, width: 7 * 249 + 256, height: 256 });
        assert_eq!(Grid::new((240, 240), 256, 249, &limits).unwrap().across, 0);
        let too_many = Grid::new((2000, 2000), 1, 1, &limits).unwrap_err();
        assert!(matches!(&too_many, CallError::Limit(e) if e.variable == "SEN12LITE_MAX_PATCHES"));
        assert_eq!(
            too_many.to_string(),
            "4000000 patches of 1 px at stride 1 is over the limit of 1048576 (SEN12LITE_MAX_PATCHES)"
        );
        assert!(Grid::new((200_000, 10), 65_536, 1, &limits)
            .unwrap_err()
            .to_string()
            .contains("over the limit of 67108864 values"));
    }
}
