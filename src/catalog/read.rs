//! The catalog's read side: typed rows for the extension and any other reader, so that only the
//! catalog writes SQL against its own tables (as gdal gives `Dataset` accessors).

use super::meta_get;
use crate::layout::Dataset;
use rusqlite::{params, Connection, OptionalExtension, Result};
use std::fmt;

/// A scene as a user names it: by its `scene_id` or its `name`.
#[derive(Debug, Clone)]
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

/// The scene `scene` names, None when the catalog has none.
pub fn scene(conn: &Connection, scene: &SceneRef) -> Result<Option<SceneRow>> {
    let (id, name): (Option<i64>, Option<&str>) = match scene {
        SceneRef::Id(id) => (Some(*id), None),
        SceneRef::Name(name) => (None, Some(name)),
    };
    conn.prepare_cached("SELECT scene_id, name, dataset FROM scenes WHERE scene_id = ?1 OR name = ?2")?
        .query_row(params![id, name], |r| {
            let dataset: String = r.get(2)?;
            Ok(SceneRow { scene_id: r.get(0)?, name: r.get(1)?, dataset: Dataset::from_name(&dataset) })
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

/// The folder the catalog's paths are relative to, None in a database that is no catalog.
pub fn data_root(conn: &Connection) -> Result<Option<String>> {
    meta_get(conn, "data_root")
}

/// A scene's footprint (GeoJSON Polygon, lon/lat), None when it has none.
pub fn footprint(conn: &Connection, scene_id: i64) -> Result<Option<String>> {
    let row =
        conn.prepare_cached("SELECT footprint FROM scenes WHERE scene_id = ?1")?.query_row([scene_id], |r| r.get(0));
    Ok(row.optional()?.flatten())
}

/// A scene whose box holds a point, with its footprint and times.
#[derive(Debug, Clone)]
pub struct SceneAt {
    /// `scenes.scene_id`.
    pub scene_id: i64,
    /// GeoJSON Polygon, lon/lat: the box is the R*Tree's, rounded outward, so test this.
    pub footprint: String,
    /// `scenes.s1_time` (ISO-8601 UTC), NULL for SEN12MS.
    pub s1_time: Option<String>,
    /// `scenes.s2_time`.
    pub s2_time: Option<String>,
}

/// The scenes whose R*Tree box holds the point (lon, lat): one indexed lookup.
pub fn scenes_at(conn: &Connection, lon: f64, lat: f64) -> Result<Vec<SceneAt>> {
    let mut statement = conn.prepare_cached(
        "SELECT s.scene_id, s.footprint, s.s1_time, s.s2_time FROM scenes_rtree r JOIN scenes s USING (scene_id)
         WHERE r.min_lon <= ?1 AND r.max_lon >= ?1 AND r.min_lat <= ?2 AND r.max_lat >= ?2
           AND s.footprint IS NOT NULL",
    )?;
    let rows = statement.query_map(params![lon, lat], |r| {
        Ok(SceneAt { scene_id: r.get(0)?, footprint: r.get(1)?, s1_time: r.get(2)?, s2_time: r.get(3)? })
    })?;
    rows.collect()
}

/// Calls `each(scene_id, footprint)` for every scene that has a footprint.
pub fn for_each_footprint(conn: &Connection, mut each: impl FnMut(i64, &str) -> Result<()>) -> Result<()> {
    let mut statement = conn.prepare("SELECT scene_id, footprint FROM scenes WHERE footprint IS NOT NULL")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        each(row.get(0)?, row.get_ref(1)?.as_str()?)?;
    }
    Ok(())
}
