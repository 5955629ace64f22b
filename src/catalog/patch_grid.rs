//! The authors' patch grid in the catalog: each file's cells (`patch_cells`, written with the
//! file's other rows) and, once a scene's files are all counted, its `patches` rows, the values
//! `s12_patches(scene)` computes from the rasters (docs/catalog.md).

use crate::layout::{Dataset, Modality};
use crate::raster::grid::{cell_at as at, decode_runs, encode_runs, Cell, Grid, PatchCounts, PatchRow};
use crate::raster::optical::CLOUD_BAND;
use rusqlite::{params, Connection, OptionalExtension, Result};
use std::collections::BTreeMap;

/// Writes one file's cells (its earlier ones are gone with `forget`).
pub fn write_cells(conn: &Connection, scene_id: i64, modality: &str, counts: &PatchCounts) -> Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO patch_cells (scene_id, modality, row, col, invalid, invalid_runs, valid, cloudy, ndvi_sum,
                                  ndvi_count, classes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let s2 = Modality::S2.is(modality);
    for (index, cell) in counts.cells.iter().enumerate() {
        let (row, col) = counts.grid.corner(index);
        let runs = (!cell.runs.is_empty()).then(|| encode_runs(&cell.runs));
        let classes = (!cell.classes.is_empty()).then(|| serde_json::to_string(&cell.classes).unwrap_or_default());
        let optical = |value: u64| s2.then_some(value as i64);
        insert.execute(params![
            scene_id,
            modality,
            row as i64,
            col as i64,
            cell.invalid as i64,
            runs,
            optical(cell.valid),
            optical(cell.cloudy),
            s2.then_some(cell.ndvi_sum),
            optical(cell.ndvi_count),
            classes
        ])?;
    }
    Ok(())
}

/// Forgets a file's cells, and the scene's patches, which were made with them.
pub fn forget(conn: &Connection, scene_id: i64, modality: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM patch_cells WHERE scene_id = ?1 AND modality = ?2")?
        .execute(params![scene_id, modality])?;
    conn.prepare_cached("DELETE FROM patches WHERE scene_id = ?1")?.execute([scene_id])?;
    conn.prepare_cached("DELETE FROM patch_grids WHERE scene_id = ?1")?.execute([scene_id])?;
    Ok(())
}

/// Writes the `patches` of every scene whose files are all counted and whose patches are not
/// there yet (its files new or changed in this run, or an earlier run stopped before this), in one
/// transaction; the number of scenes. Scenes `s12_patches` would refuse (S1 and S2 of different
/// sizes, no S1 or S2) get none, and so do scenes with a file not counted.
pub fn complete(conn: &Connection) -> Result<usize> {
    let scenes: Vec<(i64, Option<String>)> = conn
        .prepare(
            "SELECT scene_id, dataset FROM scenes s WHERE has_files
               AND NOT EXISTS (SELECT 1 FROM patch_grids g WHERE g.scene_id = s.scene_id)
               AND EXISTS (SELECT 1 FROM files f WHERE f.scene_id = s.scene_id AND f.patch_threshold IS NOT NULL)",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_>>()?;
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut completed = 0;
    for (scene_id, dataset) in scenes {
        let dataset = dataset.as_deref().and_then(Dataset::from_name);
        if let Some(scene) = ScenePatches::of(conn, scene_id, dataset)? {
            scene.write(conn, scene_id)?;
            completed += 1;
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(completed)
}

/// A scene's counted files, joined.
struct ScenePatches {
    grid: Grid,
    cloud_threshold: f64,
    clouds_measured: bool,
    s2: Option<Vec<Cell>>,
    s1: Option<Vec<Cell>>,
    map: Option<Vec<Cell>>,
}

/// A file's row: (width, height, patch_threshold).
type Counted = (i64, i64, Option<f64>);

impl ScenePatches {
    /// The scene's files on the grid, as `s12_patches` takes them: S2 and S1 of one size (at
    /// least one of them), the land-cover map when it is on their grid. None when a file it
    /// needs was not counted, or `s12_patches` would refuse the scene.
    fn of(conn: &Connection, scene_id: i64, dataset: Option<Dataset>) -> Result<Option<ScenePatches>> {
        let file = |modality: &str| -> Result<Option<Counted>> {
            conn.prepare_cached(
                "SELECT width, height, patch_threshold FROM files WHERE scene_id = ?1 AND modality = ?2",
            )?
            .query_row(params![scene_id, modality], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
        };
        let (s2, s1) = (file(Modality::S2.name())?, file(Modality::S1.name())?);
        let map_modality = dataset.and_then(Dataset::land_cover);
        let map = match map_modality {
            Some(m) => file(m.name())?,
            None => None,
        };
        let Some(&(width, height, threshold)) = s2.as_ref().or(s1.as_ref()) else { return Ok(None) };
        let same_size = |f: &Option<Counted>| f.is_some_and(|(w, h, _)| (w, h) == (width, height));
        let counted = |f: &Option<Counted>| f.is_none_or(|(_, _, t)| t.is_some());
        if (s1.is_some() && !same_size(&s1)) || !counted(&s2) || !counted(&s1) {
            return Ok(None);
        }
        let map_on_grid = same_size(&map);
        if map_on_grid && !counted(&map) {
            return Ok(None);
        }
        let grid = Grid::authors(width.max(0) as usize, height.max(0) as usize);
        let cells = |present: bool, modality: &str| -> Result<Option<Vec<Cell>>> {
            if present {
                read_cells(conn, scene_id, modality).map(Some)
            } else {
                Ok(None)
            }
        };
        let scene = ScenePatches {
            grid,
            cloud_threshold: threshold.unwrap_or_default(),
            clouds_measured: s2.is_some() && has_cloud_band(conn, scene_id)?,
            s2: cells(s2.is_some(), Modality::S2.name())?,
            s1: cells(s1.is_some(), Modality::S1.name())?,
            map: match map_modality {
                Some(m) => cells(map_on_grid, m.name())?,
                None => None,
            },
        };
        let complete =
            [&scene.s2, &scene.s1, &scene.map].iter().all(|c| c.as_ref().is_none_or(|c| c.len() == grid.len()));
        Ok(complete.then_some(scene))
    }

    fn write(&self, conn: &Connection, scene_id: i64) -> Result<()> {
        let mut insert = conn.prepare_cached(
            "INSERT INTO patches (scene_id, row, col, width, height, cloud_fraction, nodata_fraction, ndvi_mean,
                                  landcover) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for index in 0..self.grid.len() {
            let (row, col) = self.grid.corner(index);
            let patch = PatchRow::of(
                self.grid.size,
                at(&self.s2, index),
                self.clouds_measured,
                at(&self.s1, index),
                at(&self.map, index),
            );
            insert.execute(params![
                scene_id,
                row as i64,
                col as i64,
                self.grid.size as i64,
                patch.cloud_fraction,
                patch.nodata_fraction,
                patch.ndvi_mean,
                patch.landcover
            ])?;
        }
        conn.prepare_cached("INSERT INTO patch_grids (scene_id, patches, cloud_threshold) VALUES (?1, ?2, ?3)")?
            .execute(params![scene_id, self.grid.len() as i64, self.cloud_threshold])?;
        Ok(())
    }
}

/// Whether the scene's S2 file has the cloud band (SEN12TP's; SEN12MS has none).
fn has_cloud_band(conn: &Connection, scene_id: i64) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM band_stats WHERE scene_id = ?1 AND modality = 's2' AND band_name = ?2)",
    )?
    .query_row(params![scene_id, CLOUD_BAND], |r| r.get(0))
}

/// A file's cells in grid order.
fn read_cells(conn: &Connection, scene_id: i64, modality: &str) -> Result<Vec<Cell>> {
    conn.prepare_cached(
        "SELECT invalid, invalid_runs, valid, cloudy, ndvi_sum, ndvi_count, classes FROM patch_cells
         WHERE scene_id = ?1 AND modality = ?2 ORDER BY row, col",
    )?
    .query_map(params![scene_id, modality], |r| {
        let runs: Option<Vec<u8>> = r.get(1)?;
        let classes: Option<String> = r.get(6)?;
        Ok(Cell {
            invalid: r.get::<_, i64>(0)? as u64,
            runs: runs.as_deref().and_then(decode_runs).unwrap_or_default(),
            valid: r.get::<_, Option<i64>>(2)?.unwrap_or(0) as u64,
            cloudy: r.get::<_, Option<i64>>(3)?.unwrap_or(0) as u64,
            ndvi_sum: r.get::<_, Option<f64>>(4)?.unwrap_or(0.0),
            ndvi_count: r.get::<_, Option<i64>>(5)?.unwrap_or(0) as u64,
            classes: classes
                .and_then(|text| serde_json::from_str::<BTreeMap<i64, u64>>(&text).ok())
                .unwrap_or_default(),
        })
    })?
    .collect()
}
