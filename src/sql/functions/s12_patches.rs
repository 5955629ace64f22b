//! `s12_patches(scene [, size, stride])` -> `col, row, width, height, cloud_fraction,
//! nodata_fraction, ndvi_mean, landcover` for every patch of the grid that fits inside the raster
//! (256 px at stride 249 by default, the SEN12TP authors' grid); `landcover` is the class mix of
//! the scene's land-cover map under the patch (WorldCover, or SEN12MS's IGBP band), as JSON.
//!
//! A pixel is nodata when any S2 reflectance band or any S1 band has no data there; the cloud
//! fraction and NDVI follow the catalog's rules over the S2-valid pixels, so
//! `cloud_fraction <= 0.001 AND nodata_fraction = 0` keeps the patches FilteredSEN12TP keeps.

use crate::catalog::cloud_threshold;
use crate::catalog::read::{self, SceneRow, StoredPatch};
use crate::layout::{Dataset, Modality};
use crate::raster::cache::{Pinned, CHANGED};
use crate::raster::grid::{
    cell_at, Cell, Facts, Grid as PatchGrid, GridPass, OpticalCells, PatchRow, PATCH_SIZE, PATCH_STRIDE,
};
use crate::raster::optical::{cloud_band, mask_of, nodata_tags};
use crate::raster::strips::{for_each_native_strip, Window};
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::fail;
use crate::sql::runtime::error::{CallError, CallResult};
use crate::sql::runtime::limits::Limits;
use crate::sql::runtime::resolve::{self, modalities_on_disk, Target};
use crate::sql::runtime::session::{Call, Session};
use crate::sql::runtime::table::TableFunction;
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

const F: &str = "s12_patches";
const DEFAULT_SIZE: i64 = PATCH_SIZE as i64;
const DEFAULT_STRIDE: i64 = PATCH_STRIDE as i64;

/// The patches of one call: the ingest's, or computed from the rasters.
pub(crate) enum Patches {
    /// The catalog's `patches` (the authors' grid, its files unchanged on disk since): no raster read.
    Stored(Vec<StoredPatch>),
    /// Computed a row of patches at a time.
    Computed(Box<Computed>),
}

/// Patches computed from the rasters.
pub(crate) struct Computed {
    grid: PatchGrid,
    sources: Sources,
    /// The S2 file has a cloud band: without one, cloud fractions are NULL (nobody measured them).
    clouds_measured: bool,
    /// The row of patches computed last (rows come a row of patches at a time), and its patches.
    patch_row: Option<usize>,
    patches: Vec<PatchRow>,
    /// The files as they were at the first row: a row read from a file changed since is refused.
    pinned: Pinned,
}

impl Sources {
    /// The files: S2, S1, the land-cover map.
    fn targets(&self) -> impl Iterator<Item = &Target> {
        self.s2.iter().map(|(target, _)| target).chain(&self.s1).chain(&self.map)
    }
}

/// The files a row of patches is read from, and the cloud rule.
struct Sources {
    /// S2, with its 1-based B8 and B4 band numbers.
    s2: Option<(Target, [usize; 2])>,
    s1: Option<Target>,
    /// The land-cover map, when it is on the grid of the S1/S2 files (else the mix is NULL).
    map: Option<Target>,
    threshold: f64,
}

/// The grid, refused before anything is read or allocated when it has more patches, or a row of
/// patches more values, than `limits` allow.
fn checked_grid(raster: (usize, usize), size: i64, stride: i64, limits: &Limits) -> CallResult<PatchGrid> {
    if !(1..=65_536).contains(&size) {
        return Err(CallError::Invalid(format!("size must be 1..65536 px, got {size}")));
    }
    if !(1..=65_536).contains(&stride) {
        return Err(CallError::Invalid(format!("stride must be 1..65536 px, got {stride}")));
    }
    let (size, stride) = (size as usize, stride as usize);
    let grid = PatchGrid::of(raster.0, raster.1, size, stride);
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
fn band_of(grid: &PatchGrid, patch_row: usize) -> Window {
    let width = if grid.across == 0 { 0 } else { (grid.across - 1) * grid.stride + grid.size };
    Window { col: 0, row: patch_row * grid.stride, width, height: grid.size }
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
        if (size, stride) == (DEFAULT_SIZE, DEFAULT_STRIDE) {
            if let Some(rows) = stored(conn, &scene)? {
                return Ok(Some(Patches::Stored(rows)));
            }
        }
        Computed::new(conn, session, &scene, size, stride).map(|computed| Some(Patches::Computed(Box::new(computed))))
    }

    fn len(&self) -> usize {
        match self {
            Patches::Stored(rows) => rows.len(),
            Patches::Computed(computed) => computed.len(),
        }
    }

    fn ready(&self, row: usize) -> bool {
        match self {
            Patches::Stored(_) => true,
            Patches::Computed(computed) => computed.ready(row),
        }
    }

    fn fill(&mut self, conn: &Connection, session: &Session, row: usize) -> Result<()> {
        match self {
            Patches::Stored(_) => Ok(()),
            Patches::Computed(computed) => computed.fill(conn, session, row),
        }
    }

    fn value(&self, row: usize, column: usize) -> Value {
        match self {
            Patches::Stored(rows) => rows[row][column].clone(),
            Patches::Computed(computed) => computed.value(row, column),
        }
    }
}

/// The ingest's patches of `scene`, when every file they were counted from is on disk as the
/// catalog knows it (same size and modification time): else None, and they are computed.
fn stored(conn: &Connection, scene: &SceneRow) -> Result<Option<Vec<StoredPatch>>> {
    let Some(rows) = read::stored_patches(conn, scene.scene_id, cloud_threshold(conn))? else { return Ok(None) };
    let map = scene.dataset.and_then(Dataset::land_cover);
    for modality in [Some(Modality::S2), Some(Modality::S1), map].into_iter().flatten() {
        if !resolve::as_catalogued(conn, F, scene, modality.name())? {
            return Ok(None);
        }
    }
    Ok(Some(rows))
}

impl Computed {
    /// The grid of `size` px patches at `stride` over the scene's S2 and S1 files (one of them
    /// at least), checked against the limits before anything is read.
    fn new(conn: &Connection, session: &Session, scene: &SceneRow, size: i64, stride: i64) -> Result<Computed> {
        let (s2, s1) = (
            resolve::optional_file_of(conn, F, scene, Modality::S2.name())?,
            resolve::optional_file_of(conn, F, scene, Modality::S1.name())?,
        );
        if s2.is_none() && s1.is_none() {
            return Err(fail(
                F,
                format!("scene {} has no s1 or s2 file ({})", scene.name, modalities_on_disk(conn, scene)?),
            ));
        }
        let mut call = session.call(F, conn);
        let raster = common_size(&mut call, s2.as_ref(), s1.as_ref())?;
        let grid = checked_grid(raster, size, stride, &session.limits).map_err(|e| fail(F, e))?;
        let map = land_cover_map(conn, &mut call, scene, raster)?;
        let clouds_measured = s2.as_ref().is_some_and(|t| cloud_band(&t.band_names).is_some());
        let s2 = match s2 {
            Some(target) => {
                let bands = [target.band(F, "B8")?, target.band(F, "B4")?];
                Some((target, bands))
            }
            None => None,
        };
        let sources = Sources { s2, s1, map, threshold: cloud_threshold(conn) };
        let pinned = Pinned::of(sources.targets().map(|target| target.path.as_path()));
        Ok(Computed { grid, sources, clouds_measured, patch_row: None, patches: Vec::new(), pinned })
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
        let band = band_of(&self.grid, patch_row);
        let [s2, s1, map] = count_band(&mut session.call(F, conn), &self.sources, band, self.grid)?;
        if let Some(target) = self.pinned.changed().and_then(|path| self.sources.targets().find(|t| t.path == path)) {
            return Err(fail(F, format!("{}: {CHANGED}", target.relative)));
        }
        self.patches = (0..self.grid.across)
            .map(|j| {
                PatchRow::of(self.grid.size, cell_at(&s2, j), self.clouds_measured, cell_at(&s1, j), cell_at(&map, j))
            })
            .collect();
        self.patch_row = Some(patch_row);
        Ok(())
    }

    fn value(&self, row: usize, column: usize) -> Value {
        let p = &self.patches[row % self.grid.across];
        let (top, left) = self.grid.corner(row);
        let real = |v: Option<f64>| v.map_or(Value::Null, Value::Real);
        match column {
            0 => Value::Integer(left as i64),
            1 => Value::Integer(top as i64),
            2 | 3 => Value::Integer(self.grid.size as i64),
            4 => real(p.cloud_fraction),
            5 => Value::Real(p.nodata_fraction),
            6 => real(p.ndvi_mean),
            _ => p.landcover.clone().map_or(Value::Null, Value::Text),
        }
    }
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

/// The cells of one row of patches in each of the scene's S2, S1 and map files (None for a file
/// it does not have), with the rules the ingest counts its grid with: one open dataset at a time.
fn count_band(call: &mut Call, sources: &Sources, band: Window, grid: PatchGrid) -> Result<[Option<Vec<Cell>>; 3]> {
    let row_grid = PatchGrid { down: 1, ..grid };
    let pass = |facts| GridPass::new(row_grid, band.width, facts);
    let s2 = match &sources.s2 {
        Some((target, [nir, red])) => Some(call.with_dataset(target, |dataset, guard| {
            let read: Vec<usize> = (1..=target.band_names.len()).collect();
            let mask = mask_of(dataset, &target.band_names, &read, sources.threshold)?;
            let ndvi_mask = mask.restricted_to(&[nir - 1, red - 1]);
            let mut cells = OpticalCells::new(&mask, &ndvi_mask, (nir - 1, red - 1), pass(Facts::Optical));
            for_each_native_strip(dataset, &read, band, guard, &mut cells)?;
            Ok(cells.counts.finish(sources.threshold).cells)
        })?),
        None => None,
    };
    let mut count = |target: &Target, facts: fn(Vec<Option<f64>>) -> Facts, read: Vec<usize>| {
        call.with_dataset(target, |dataset, guard| {
            let mut counts = pass(facts(nodata_tags(dataset, &read)?));
            for_each_native_strip(dataset, &read, band, guard, &mut counts)?;
            Ok(counts.finish(sources.threshold).cells)
        })
    };
    // S1 has no cloud band: a pixel has no data where any band has none.
    let any_nodata: fn(Vec<Option<f64>>) -> Facts = |tags| Facts::AnyNodata(tags.into_iter().enumerate().collect());
    let classes: fn(Vec<Option<f64>>) -> Facts = |tags| Facts::Classes { band: 0, tag: tags[0] };
    let s1 = match &sources.s1 {
        Some(target) => Some(count(target, any_nodata, (1..=target.band_names.len()).collect())?),
        None => None,
    };
    let map = match &sources.map {
        Some(target) => Some(count(target, classes, vec![1])?),
        None => None,
    };
    Ok([s2, s1, map])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_what_fits_and_is_bounded_before_reading() {
        // The authors' grid on a 2000 px scene: (2000 - 256) / 249 + 1 = 8 a side.
        let limits = Limits::built_in();
        let grid = checked_grid((2000, 2000), 256, 249, &limits).unwrap();
        assert_eq!((grid.across, grid.down), (8, 8));
        assert_eq!(band_of(&grid, 7), Window { col: 0, row: 7 * 249, width: 7 * 249 + 256, height: 256 });
        assert_eq!(checked_grid((240, 240), 256, 249, &limits).unwrap().across, 0);
        let too_many = checked_grid((2000, 2000), 1, 1, &limits).unwrap_err();
        assert!(matches!(&too_many, CallError::Limit(e) if e.variable == "SEN12LITE_MAX_PATCHES"));
        assert_eq!(
            too_many.to_string(),
            "4000000 patches of 1 px at stride 1 is over the limit of 1048576 (SEN12LITE_MAX_PATCHES)"
        );
        assert!(checked_grid((200_000, 10), 65_536, 1, &limits)
            .unwrap_err()
            .to_string()
            .contains("over the limit of 67108864 values"));
    }
}
