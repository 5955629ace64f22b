//! The catalog's read side: typed rows for the extension and any other reader, so that only the
//! catalog writes SQL against its own tables (as gdal gives `Dataset` accessors).

use super::meta_get;
use crate::layout::Dataset;
use crate::raster::stats::Moments;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Result};
use std::fmt;

/// A scene as a user names it: by its `scene_id` or its `name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SceneRef {
    /// By `scenes.scene_id`.
    Id(i64),
    /// By `scenes.name` (`720_1868`, `ROIs1158_spring_1_p30`).
    Name(String),
}

impl fmt::Display for SceneRef {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            SceneRef::Id(id) => write!(f, "{id}"),
            SceneRef::Name(name) => write!(f, "'{name}'"),
        }
    }
}

/// A catalogued scene.
#[derive(Debug, Clone)]
pub struct SceneRow {
    /// `scenes.scene_id`.
    pub scene_id: i64,
    /// `scenes.name`.
    pub name: String,
    /// None for a `scenes.dataset` this version does not know.
    pub dataset: Option<Dataset>,
}

/// A catalogued file of one modality of a scene.
#[derive(Debug, Clone)]
pub struct FileRow {
    /// Relative to `data_root`, as the catalog stores it.
    pub path: String,
    /// Bands of the file, as the ingest found them.
    pub band_count: usize,
}

impl SceneRef {
    /// (scene_id, name) as the two parameters of `WHERE scene_id = ?1 OR name = ?2`.
    fn keys(&self) -> (Option<i64>, Option<&str>) {
        match self {
            SceneRef::Id(id) => (Some(*id), None),
            SceneRef::Name(name) => (None, Some(name)),
        }
    }
}

/// A scene from a row whose first three columns are `scene_id, name, dataset`.
fn scene_row(r: &rusqlite::Row) -> Result<SceneRow> {
    let dataset: String = r.get(2)?;
    Ok(SceneRow { scene_id: r.get(0)?, name: r.get(1)?, dataset: Dataset::from_name(&dataset) })
}

/// The scene `scene` names, None when the catalog has none.
pub fn scene(conn: &Connection, scene: &SceneRef) -> Result<Option<SceneRow>> {
    let (id, name) = scene.keys();
    conn.prepare_cached("SELECT scene_id, name, dataset FROM scenes WHERE scene_id = ?1 OR name = ?2")?
        .query_row(params![id, name], scene_row)
        .optional()
}

/// A scene, its file of one modality if it has one, and the catalog's `data_root`.
pub struct SceneFile {
    /// The scene.
    pub scene: SceneRow,
    /// Its file of the modality asked for.
    pub file: Option<FileRow>,
    /// `s12_meta.data_root`.
    pub data_root: Option<String>,
}

/// The scene `scene` names, its file of `modality` (if any) and the catalog's data_root, in one
/// query: a function's own queries each take and drop the catalog's lock, so one is cheaper
/// than three. None when the catalog has no such scene.
pub fn scene_file(conn: &Connection, scene: &SceneRef, modality: &str) -> Result<Option<SceneFile>> {
    let (id, name) = scene.keys();
    conn.prepare_cached(
        "SELECT s.scene_id, s.name, s.dataset, f.path, f.band_count,
                (SELECT value FROM s12_meta WHERE key = 'data_root')
         FROM scenes s LEFT JOIN files f ON f.scene_id = s.scene_id AND f.modality = ?3
         WHERE s.scene_id = ?1 OR s.name = ?2",
    )?
    .query_row(params![id, name, modality], |r| {
        let scene = scene_row(r)?;
        let file = match r.get::<_, Option<String>>(3)? {
            Some(path) => Some(FileRow { path, band_count: r.get::<_, Option<i64>>(4)?.unwrap_or(0).max(0) as usize }),
            None => None,
        };
        Ok(SceneFile { scene, file, data_root: r.get(5)? })
    })
    .optional()
}

/// The file of `modality` of a scene, None when the catalog has none.
pub fn file(conn: &Connection, scene_id: i64, modality: &str) -> Result<Option<FileRow>> {
    conn.prepare_cached("SELECT path, band_count FROM files WHERE scene_id = ?1 AND modality = ?2")?
        .query_row(params![scene_id, modality], |r| {
            Ok(FileRow { path: r.get(0)?, band_count: r.get::<_, i64>(1)?.max(0) as usize })
        })
        .optional()
}

/// The modalities a scene has files of, sorted.
pub fn modalities(conn: &Connection, scene_id: i64) -> Result<Vec<String>> {
    let mut statement = conn.prepare_cached("SELECT modality FROM files WHERE scene_id = ?1 ORDER BY modality")?;
    let rows = statement.query_map([scene_id], |r| r.get(0))?;
    rows.collect()
}

/// The band names the ingest recorded for a file, in band order (none without statistics).
pub fn band_names(conn: &Connection, scene_id: i64, modality: &str) -> Result<Vec<String>> {
    let mut statement =
        conn.prepare_cached("SELECT band_name FROM band_stats WHERE scene_id = ?1 AND modality = ?2 ORDER BY band")?;
    let rows = statement.query_map(params![scene_id, modality], |r| r.get(0))?;
    rows.collect()
}

/// `s12_meta.schema_version`, None in a database that is no catalog.
pub fn meta_version(conn: &Connection) -> Result<Option<String>> {
    meta_get(conn, "schema_version")
}

/// The folder the catalog's paths are relative to, None in a database that is no catalog.
pub fn data_root(conn: &Connection) -> Result<Option<String>> {
    meta_get(conn, "data_root")
}

/// A scene's footprint (`scenes.geom`: WKB Polygon, lon/lat), None when it has none.
pub fn footprint(conn: &Connection, scene_id: i64) -> Result<Option<Vec<u8>>> {
    let row = conn.prepare_cached("SELECT geom FROM scenes WHERE scene_id = ?1")?.query_row([scene_id], |r| r.get(0));
    Ok(row.optional()?.flatten())
}

/// A scene whose box holds a point, with its footprint and times.
#[derive(Debug, Clone)]
pub struct SceneAt {
    /// `scenes.scene_id`.
    pub scene_id: i64,
    /// WKB Polygon, lon/lat: the box is the R*Tree's, rounded outward, so test this.
    pub footprint: Vec<u8>,
    /// `scenes.s1_time` (ISO-8601 UTC), NULL for SEN12MS.
    pub s1_time: Option<String>,
    /// `scenes.s2_time`.
    pub s2_time: Option<String>,
}

/// The scenes whose R*Tree box holds the point (lon, lat): one indexed lookup.
pub fn scenes_at(conn: &Connection, lon: f64, lat: f64) -> Result<Vec<SceneAt>> {
    let mut statement = conn.prepare_cached(
        "SELECT s.scene_id, s.geom, s.s1_time, s.s2_time FROM scenes_rtree r JOIN scenes s USING (scene_id)
         WHERE r.min_lon <= ?1 AND r.max_lon >= ?1 AND r.min_lat <= ?2 AND r.max_lat >= ?2
           AND s.geom IS NOT NULL",
    )?;
    let rows = statement.query_map(params![lon, lat], |r| {
        Ok(SceneAt { scene_id: r.get(0)?, footprint: r.get(1)?, s1_time: r.get(2)?, s2_time: r.get(3)? })
    })?;
    rows.collect()
}

/// Calls `each(scene_id, footprint)` for every scene that has a footprint (GeoJSON text).
pub fn for_each_footprint_text(conn: &Connection, mut each: impl FnMut(i64, &str) -> Result<()>) -> Result<()> {
    let mut statement = conn.prepare("SELECT scene_id, footprint FROM scenes WHERE footprint IS NOT NULL")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        each(row.get(0)?, row.get_ref(1)?.as_str()?)?;
    }
    Ok(())
}

/// Calls `each(scene_id, geom)` for every scene whose R*Tree box meets the lon/lat box
/// `[min_lon, min_lat, max_lon, max_lat]`: one R*Tree search, then each candidate's WKB footprint.
pub fn for_each_footprint_in_box(
    conn: &Connection,
    area: [f64; 4],
    mut each: impl FnMut(i64, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut statement = conn.prepare_cached(
        "SELECT s.scene_id, s.geom FROM scenes_rtree r JOIN scenes s USING (scene_id)
         WHERE r.max_lon >= ?1 AND r.min_lon <= ?3 AND r.max_lat >= ?2 AND r.min_lat <= ?4 AND s.geom IS NOT NULL",
    )?;
    let mut rows = statement.query(params![area[0], area[1], area[2], area[3]])?;
    while let Some(row) = rows.next()? {
        each(row.get(0)?, row.get_ref(1)?.as_blob()?)?;
    }
    Ok(())
}

/// The scene_ids of the scenes named in `names`, a JSON array of `scenes.name`.
pub fn scene_ids_named(conn: &Connection, names: &str) -> Result<Vec<i64>> {
    let mut statement =
        conn.prepare_cached("SELECT scene_id FROM scenes WHERE name IN (SELECT value FROM json_each(?1))")?;
    let rows = statement.query_map([names], |r| r.get(0))?;
    rows.collect()
}

/// A band of many files: by number (`band_stats.band`), or by name (`band_stats.band_name`,
/// case-insensitive; S1's `VV` also names `VV_sigma0`), or every band.
pub enum BandKey<'k> {
    /// Every band of the modality.
    Every,
    /// 1-based band number: one indexed lookup per scene.
    Number(i64),
    /// Band name: each scene's bands of the modality are compared.
    Name(&'k str),
}

/// One band of one file, as the ingest measured it.
pub struct BandStatsRow<'r> {
    /// `band_stats.scene_id`.
    pub scene_id: i64,
    /// `band_stats.band`, 1-based.
    pub band: i64,
    /// `band_stats.band_name`.
    pub band_name: &'r str,
    /// Count, extremes, mean and spread of its valid values (count 0 and NaN without any).
    pub moments: Moments,
    /// Its encoded quantile sketch; None in a row written before sketches.
    pub sketch: Option<&'r [u8]>,
}

/// Calls `each` with the statistics of one band of `modality` in every scene of `scene_ids` (a
/// JSON array) that has them.
pub fn for_each_band_stats(
    conn: &Connection,
    scene_ids: &str,
    modality: &str,
    band: &BandKey,
    mut each: impl FnMut(BandStatsRow) -> Result<()>,
) -> Result<()> {
    // Two statements, not one with OR: a condition on the name beside the one on the number
    // would keep SQLite from using band in the primary key.
    let (condition, key): (&str, &dyn rusqlite::ToSql) = match band {
        BandKey::Every => ("?3 IS NULL", &rusqlite::types::Null),
        BandKey::Number(n) => ("band = ?3", n),
        BandKey::Name(name) => ("(band_name = ?3 COLLATE NOCASE OR band_name = ?3 || '_sigma0' COLLATE NOCASE)", name),
    };
    let mut statement = conn.prepare_cached(&format!(
        "SELECT scene_id, band_name, valid_count, min, max, mean, stddev, sketch, band FROM band_stats
         WHERE scene_id IN (SELECT value FROM json_each(?1)) AND modality = ?2 AND {condition}"
    ))?;
    let mut rows = statement.query(params![scene_ids, modality, key])?;
    while let Some(row) = rows.next()? {
        let count = row.get::<_, i64>(2)?.max(0) as u64;
        let number = |i: usize| row.get::<_, Option<f64>>(i).map(|v| v.unwrap_or(f64::NAN));
        let moments = Moments::of(count, number(3)?, number(4)?, number(5)?, number(6)?);
        let sketch = match row.get_ref(7)? {
            ValueRef::Blob(bytes) => Some(bytes),
            _ => None,
        };
        let band = row.get(8)?;
        each(BandStatsRow { scene_id: row.get(0)?, band, band_name: row.get_ref(1)?.as_str()?, moments, sketch })?;
    }
    Ok(())
}

/// The band names of `modality` in the first scene of `scene_ids` (a JSON array, ascending) with
/// statistics for it, in band order: empty when none has.
pub fn band_names_in(conn: &Connection, scene_ids: &str, modality: &str) -> Result<Vec<String>> {
    let first = conn
        .prepare_cached(
            "SELECT scene_id FROM band_stats WHERE scene_id IN (SELECT value FROM json_each(?1)) AND modality = ?2
             ORDER BY scene_id LIMIT 1",
        )?
        .query_row(params![scene_ids, modality], |r| r.get::<_, i64>(0))
        .optional()?;
    first.map_or(Ok(Vec::new()), |scene_id| band_names(conn, scene_id, modality))
}

/// The modalities of the catalog's files, sorted: one scan of `files`.
pub fn modality_names(conn: &Connection) -> Result<Vec<String>> {
    let mut statement = conn.prepare_cached("SELECT DISTINCT modality FROM files ORDER BY modality")?;
    let rows = statement.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// One row of `patches`, as `s12_patches` gives it (col, row, width, height, cloud_fraction,
/// nodata_fraction, ndvi_mean, landcover).
pub type StoredPatch = [Value; 8];

/// The `patches` of a scene, when the ingest completed them with `cloud_threshold`; None when it
/// did not (an older catalog, a file not counted) or with another threshold.
pub fn stored_patches(conn: &Connection, scene_id: i64, cloud_threshold: f64) -> Result<Option<Vec<StoredPatch>>> {
    let threshold: Option<f64> = conn
        .prepare_cached("SELECT cloud_threshold FROM patch_grids WHERE scene_id = ?1")?
        .query_row([scene_id], |r| r.get(0))
        .optional()?;
    if threshold != Some(cloud_threshold) {
        return Ok(None);
    }
    conn.prepare_cached(
        "SELECT col, row, width, height, cloud_fraction, nodata_fraction, ndvi_mean, landcover FROM patches
         WHERE scene_id = ?1 ORDER BY row, col",
    )?
    .query_map([scene_id], |r| {
        Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?])
    })?
    .collect::<Result<_>>()
    .map(Some)
}

/// The size and modification time (ns) the catalog has for a scene's file of `modality`.
pub fn file_stamp(conn: &Connection, scene_id: i64, modality: &str) -> Result<Option<(u64, i64)>> {
    conn.prepare_cached("SELECT bytes, mtime FROM files WHERE scene_id = ?1 AND modality = ?2")?
        .query_row(params![scene_id, modality], |r| Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get(1)?)))
        .optional()
}

/// The quicklook the ingest kept of a scene as `what` (`rgb`, `vv`, `worldcover`, `igbp`): the
/// modality of the file it shows and the PNG.
pub fn kept_quicklook(conn: &Connection, scene_id: i64, what: &str) -> Result<Option<(String, Vec<u8>)>> {
    conn.prepare_cached("SELECT modality, png FROM quicklooks WHERE scene_id = ?1 AND what = ?2")?
        .query_row(params![scene_id, what], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

/// What the ingest kept quicklooks of for a scene, sorted.
pub fn kept_quicklooks(conn: &Connection, scene_id: i64) -> Result<Vec<String>> {
    conn.prepare_cached("SELECT what FROM quicklooks WHERE scene_id = ?1 ORDER BY what")?
        .query_map([scene_id], |r| r.get(0))?
        .collect()
}
