//! The patch grid: square patches at a stride over a raster (the SEN12TP authors' 256 px every
//! 249 px by default), and the per-patch counts one file gives while the ingest reads its strips
//! anyway. The counts of a scene's S2, S1 and land-cover files together are the patch rows
//! `s12_patches` computes: [`PatchRow::of`] joins them with the same rules.

use super::optical::{add_finite, ndvi_at, valid_and_cloudy, OpticalCounts, OpticalMask, OpticalStrip, PixelClass};
use super::stats::Sample;
use std::collections::BTreeMap;

/// The SEN12TP authors' patch side, in pixels.
pub const PATCH_SIZE: usize = 256;
/// The SEN12TP authors' stride between patches, in pixels.
pub const PATCH_STRIDE: usize = 249;

/// Where the patches of a raster are: every `size` px square at a multiple of `stride` that fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Patch side.
    pub size: usize,
    /// Distance between neighbouring patches.
    pub stride: usize,
    /// Patches along a row.
    pub across: usize,
    /// Rows of patches.
    pub down: usize,
}

impl Grid {
    /// The grid of a `width` x `height` raster (`size` and `stride` at least 1).
    pub fn of(width: usize, height: usize, size: usize, stride: usize) -> Grid {
        let fit = |extent: usize| if extent < size { 0 } else { (extent - size) / stride + 1 };
        Grid { size, stride, across: fit(width), down: fit(height) }
    }

    /// The authors' grid of a `width` x `height` raster.
    pub fn authors(width: usize, height: usize) -> Grid {
        Grid::of(width, height, PATCH_SIZE, PATCH_STRIDE)
    }

    /// Patches in the grid.
    pub fn len(&self) -> usize {
        self.across * self.down
    }

    /// Whether no patch fits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The (row, col) pixel corner of the patch at `index`, the patches numbered row-major.
    pub fn corner(&self, index: usize) -> (usize, usize) {
        let across = self.across.max(1);
        ((index / across) * self.stride, (index % across) * self.stride)
    }

    /// The rows of patches that raster row `y` lies in (at most two when patches overlap).
    fn patch_rows_of(&self, y: usize) -> std::ops::Range<usize> {
        let first = if y < self.size { 0 } else { (y - self.size) / self.stride + 1 };
        first..(y / self.stride + 1).min(self.down)
    }
}

/// What one file says about the pixels of one patch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    /// Pixels this file has no data at (S2: a reflectance band; S1: any band).
    pub invalid: u64,
    /// Where those pixels are: runs `[y, x0, x1)` in patch coordinates, row by row.
    pub runs: Vec<[u16; 3]>,
    /// S2: valid pixels (cloudy or clear).
    pub valid: u64,
    /// S2: valid pixels under cloud.
    pub cloudy: u64,
    /// S2: sum of NDVI over clear pixels where B8 and B4 have data, in row-major order.
    pub ndvi_sum: f64,
    /// S2: the pixels in that sum.
    pub ndvi_count: u64,
    /// A land-cover map: pixels of each class code with data.
    pub classes: BTreeMap<i64, u64>,
}

/// What a file's pixels say on the grid.
#[derive(Debug, Clone)]
pub enum Facts {
    /// An S2 file: the catalog's class of each pixel, and its NDVI, as [`OpticalCounts`] finds
    /// them for the whole file.
    Optical,
    /// An S1 file: a pixel has no data where any of these (0-based band, nodata tag) has none.
    AnyNodata(Vec<(usize, Option<f64>)>),
    /// A land-cover map: the class code of `band` (0-based) where it has data.
    Classes {
        /// 0-based band of the codes.
        band: usize,
        /// Its nodata tag.
        tag: Option<f64>,
    },
}

/// The per-patch counts of one file, fed strip by strip from the top.
#[derive(Debug, Clone)]
pub struct GridPass {
    grid: Grid,
    width: usize,
    facts: Facts,
    next_row: usize,
    cells: Vec<Cell>,
    /// The current strip's [`any_nodata`], for an S1 file.
    invalid: Vec<bool>,
}

impl GridPass {
    /// Counts on `grid` of a raster `width` px wide, from `facts`.
    pub fn new(grid: Grid, width: usize, facts: Facts) -> GridPass {
        GridPass { grid, width, facts, next_row: 0, cells: vec![Cell::default(); grid.len()], invalid: Vec::new() }
    }

    /// Adds the next strip: `pixels` values (whole rows) of each band in `strips`; an S2 pass
    /// gives the strip's pixel classes and NDVI too.
    pub fn add_strip<T: Sample>(&mut self, strips: &[Vec<T>], pixels: usize, optical: Option<OpticalStrip>) {
        if let Facts::AnyNodata(bands) = &self.facts {
            any_nodata(bands, strips, pixels, &mut self.invalid);
        }
        let rows = pixels / self.width.max(1);
        for r in 0..rows {
            let y = self.next_row + r;
            for patch_row in self.grid.patch_rows_of(y) {
                let dy = (y - patch_row * self.grid.stride) as u16;
                for patch_col in 0..self.grid.across {
                    let left = r * self.width + patch_col * self.grid.stride;
                    let cell = &mut self.cells[patch_row * self.grid.across + patch_col];
                    add_line(cell, &self.facts, (strips, &self.invalid), optical, left..left + self.grid.size, dy);
                }
            }
        }
        self.next_row += rows;
    }

    /// The cells, counted with `cloud_threshold` (the S2 mask's).
    pub fn finish(self, cloud_threshold: f64) -> PatchCounts {
        PatchCounts { grid: self.grid, cloud_threshold, cells: self.cells }
    }
}

/// One file's counts on a grid.
#[derive(Debug, Clone)]
pub struct PatchCounts {
    /// The grid.
    pub grid: Grid,
    /// Cloudy above this cloud probability (percent), for an S2 file's counts.
    pub cloud_threshold: f64,
    /// Row-major (patch rows, then across).
    pub cells: Vec<Cell>,
}

impl super::strips::StripVisitor for GridPass {
    /// A strip of a file whose facts need no S2 classes (S1, a map).
    fn visit<T: Sample>(&mut self, strips: &[Vec<T>], pixels: usize) {
        self.add_strip(strips, pixels, None);
    }
}

/// An S2 file's strips classified under the catalog's mask, with NDVI under its own, into its grid
/// counts.
pub struct OpticalCells<'m> {
    /// The catalog's mask.
    pub mask: &'m OpticalMask,
    /// NDVI's mask (B8 and B4 have data, no cloud).
    pub ndvi_mask: &'m OpticalMask,
    /// 0-based NIR and red bands.
    pub nir_red: (usize, usize),
    /// The counts.
    pub counts: GridPass,
    optical: OpticalCounts,
}

impl<'m> OpticalCells<'m> {
    /// Counts of an S2 file under `mask` and `ndvi_mask`, NDVI from bands `nir_red`, into `counts`.
    pub fn new(
        mask: &'m OpticalMask,
        ndvi_mask: &'m OpticalMask,
        nir_red: (usize, usize),
        counts: GridPass,
    ) -> OpticalCells<'m> {
        OpticalCells { mask, ndvi_mask, nir_red, counts, optical: OpticalCounts::default() }
    }
}

impl super::strips::StripVisitor for OpticalCells<'_> {
    fn visit<T: Sample>(&mut self, strips: &[Vec<T>], pixels: usize) {
        let (nir, red) = self.nir_red;
        self.optical.add_strip(self.mask, self.ndvi_mask, strips, pixels, ndvi_at(nir, red));
        self.counts.add_strip(strips, pixels, Some(self.optical.strip()));
    }
}

/// Which pixels of a strip have no data in any of `bands` (0-based band, nodata tag), into
/// `invalid`: once a pixel, where a patch's row asked each of its pixels (and twice where patches
/// overlap), in the strips' own type.
fn any_nodata<T: Sample>(bands: &[(usize, Option<f64>)], strips: &[Vec<T>], pixels: usize, invalid: &mut Vec<bool>) {
    invalid.clear();
    invalid.resize(pixels, false);
    for &(band, tag) in bands {
        let is_nodata = T::nodata_test(tag);
        invalid.iter_mut().zip(&strips[band][..pixels]).for_each(|(flag, &v)| *flag |= is_nodata(v));
    }
}

/// One row of a patch: the pixels `line` of the strip, row `dy` of the patch. `invalid` holds
/// the strip's [`any_nodata`] for an S1 file.
fn add_line<T: Sample>(
    cell: &mut Cell,
    facts: &Facts,
    (strips, invalid): (&[Vec<T>], &[bool]),
    optical: Option<OpticalStrip>,
    line: std::ops::Range<usize>,
    dy: u16,
) {
    match facts {
        Facts::Optical => {
            let (classes, ndvi) = optical.expect("an S2 pass gives its classes and NDVI");
            let pixels = &classes[line.clone()];
            add_runs(cell, dy, pixels.iter().map(|class| *class == PixelClass::Invalid));
            let (valid, cloudy) = valid_and_cloudy(pixels);
            let (ndvi_sum, ndvi_count) = add_finite(cell.ndvi_sum, &ndvi[line]);
            cell.valid += valid;
            cell.cloudy += cloudy;
            cell.ndvi_sum = ndvi_sum;
            cell.ndvi_count += ndvi_count;
        }
        Facts::AnyNodata(_) => add_runs(cell, dy, invalid[line].iter().copied()),
        Facts::Classes { band, tag } => {
            // Counted a run of equal codes at a time: a map's classes come in patches, and one
            // map update a pixel was most of the grid's cost on a land-cover file.
            let is_nodata = T::nodata_test(*tag);
            let codes = &strips[*band][line];
            let mut at = 0;
            while at < codes.len() {
                let code = codes[at];
                // At least the pixel itself: a NaN code equals nothing, not even itself.
                let run = 1 + codes[at + 1..].iter().take_while(|c| **c == code).count();
                if !is_nodata(code) {
                    *cell.classes.entry(code.into() as i64).or_default() += run as u64;
                }
                at += run;
            }
        }
    }
}

/// Counts the pixels of row `dy` of a patch that `invalid` says have no data, and adds where
/// they are to the cell's runs. Most lines have none: they are asked once, without a branch a
/// pixel, before any run is looked for.
fn add_runs(cell: &mut Cell, dy: u16, invalid: impl Iterator<Item = bool> + Clone) {
    if !invalid.clone().fold(false, |any, flag| any | flag) {
        return;
    }
    for (x, _) in invalid.enumerate().filter(|(_, flag)| *flag) {
        cell.invalid += 1;
        let x = x as u16;
        match cell.runs.last_mut() {
            Some(run) if run[0] == dy && run[2] == x => run[2] = x + 1,
            _ => cell.runs.push([dy, x, x + 1]),
        }
    }
}

/// The cell at `index` of a file's cells, when the scene has the file.
pub fn cell_at(cells: &Option<Vec<Cell>>, index: usize) -> Option<&Cell> {
    cells.as_ref().map(|c| &c[index])
}

/// Pixels where either file has no data: the union of two cells' runs.
pub fn invalid_in_either(a: &[[u16; 3]], b: &[[u16; 3]]) -> u64 {
    let mut runs: Vec<[u16; 3]> = a.iter().chain(b).copied().collect();
    runs.sort_unstable();
    let mut count = 0u64;
    let mut open: Option<[u16; 3]> = None;
    for run in runs {
        open = match open {
            Some(o) if o[0] == run[0] && run[1] <= o[2] => Some([o[0], o[1], o[2].max(run[2])]),
            Some(o) => {
                count += u64::from(o[2] - o[1]);
                Some(run)
            }
            None => Some(run),
        };
    }
    count + open.map_or(0, |o| u64::from(o[2] - o[1]))
}

/// The runs of a cell as bytes (little-endian u16 triples), for the catalog.
pub fn encode_runs(runs: &[[u16; 3]]) -> Vec<u8> {
    runs.iter().flatten().flat_map(|v| v.to_le_bytes()).collect()
}

/// [`encode_runs`] read back; None for bytes that are not whole triples.
pub fn decode_runs(bytes: &[u8]) -> Option<Vec<[u16; 3]>> {
    if !bytes.len().is_multiple_of(6) {
        return None;
    }
    let value = |chunk: &[u8]| u16::from_le_bytes([chunk[0], chunk[1]]);
    Some(bytes.chunks_exact(6).map(|c| [value(&c[0..2]), value(&c[2..4]), value(&c[4..6])]).collect())
}

/// One patch's row as `s12_patches` gives it, from the cells of a scene's files.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRow {
    /// Cloudy over valid S2 pixels; None without a cloud band or a valid pixel.
    pub cloud_fraction: Option<f64>,
    /// Pixels where S2 or S1 has no data, over all pixels.
    pub nodata_fraction: f64,
    /// Mean NDVI over its pixels; None without one.
    pub ndvi_mean: Option<f64>,
    /// The land-cover mix as JSON; None without a map or a pixel with data in it.
    pub landcover: Option<String>,
}

impl PatchRow {
    /// The row of a `size` px patch from its S2 cell (`clouds_measured`: the file has a cloud
    /// band), S1 cell and land-cover cell, each present when the scene has that file.
    pub fn of(
        size: usize,
        s2: Option<&Cell>,
        clouds_measured: bool,
        s1: Option<&Cell>,
        map: Option<&Cell>,
    ) -> PatchRow {
        let none = Cell::default();
        let (s2_cell, s1_cell) = (s2.unwrap_or(&none), s1.unwrap_or(&none));
        let fraction = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
        PatchRow {
            cloud_fraction: if s2.is_some() && clouds_measured {
                fraction(s2_cell.cloudy, s2_cell.valid)
            } else {
                None
            },
            nodata_fraction: invalid_in_either(&s2_cell.runs, &s1_cell.runs) as f64 / (size * size) as f64,
            ndvi_mean: fraction(0, s2_cell.ndvi_count).map(|_| s2_cell.ndvi_sum / s2_cell.ndvi_count as f64),
            landcover: map.and_then(|cell| class_mix(&cell.classes)),
        }
    }
}

/// `{"10":0.25,"40":0.75}`: each class's share of the patch's pixels with data in the map, by
/// class code in numeric order; None when no pixel has data.
pub fn class_mix(classes: &BTreeMap<i64, u64>) -> Option<String> {
    let total: u64 = classes.values().sum();
    if total == 0 {
        return None;
    }
    let shares: Vec<String> =
        classes.iter().map(|(class, count)| format!("\"{class}\":{}", *count as f64 / total as f64)).collect();
    Some(format!("{{{}}}", shares.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authors_grid_on_a_published_scene_is_eight_a_side() {
        let grid = Grid::authors(2000, 2000);
        assert_eq!((grid.across, grid.down, grid.len()), (8, 8, 64));
        assert!(Grid::authors(255, 2000).is_empty());
    }

    #[test]
    fn each_raster_row_is_in_the_patch_rows_that_cover_it() {
        for (size, stride) in [(256, 249), (4, 4), (5, 2), (3, 7)] {
            let grid = Grid::of(40, 40, size.min(40), stride);
            for y in 0..40 {
                let expected: Vec<usize> =
                    (0..grid.down).filter(|p| p * grid.stride <= y && y < p * grid.stride + grid.size).collect();
                assert_eq!(grid.patch_rows_of(y).collect::<Vec<_>>(), expected, "{size} {stride} {y}");
            }
        }
    }

    #[test]
    fn the_union_of_runs_counts_each_pixel_once() {
        let a = [[0, 0, 4], [1, 2, 3]];
        let b = [[0, 2, 6], [1, 3, 5], [2, 0, 1]];
        // Row 0: 0..6 (6), row 1: 2..5 (3), row 2: 0..1 (1).
        assert_eq!(invalid_in_either(&a, &b), 10);
        assert_eq!(decode_runs(&encode_runs(&b)).unwrap(), b.to_vec());
        assert_eq!(decode_runs(&[1, 2, 3]), None);
    }
}
