//! Rows the ingest writes. Each function writes one fact completely, inside the caller's
//! transaction, so a catalog killed between commits is never half-written.

use super::discover::FoundFile;
use crate::geometry::wkb;
use crate::layout::season::{epoch_days_of_millis, hemisphere, iso_millis, season_at, season_of_month, utc_month};
use crate::layout::sen12ms::PatchName;
use crate::layout::sen12tp::SceneMeta;
use crate::layout::{ring_center, Dataset, Legend, Modality};
use crate::raster::scan::FileScan;
use rusqlite::{params, Connection, Result};
use serde_json::json;

/// Bounding box and vertex centre of a closed ring.
struct Extent {
    min_lon: f64,
    min_lat: f64,
    max_lon: f64,
    max_lat: f64,
    center_lon: f64,
    center_lat: f64,
}

fn extent(ring: &[[f64; 2]]) -> Extent {
    let fold = |f: fn(f64, f64) -> f64, axis: usize, start: f64| ring.iter().map(|p| p[axis]).fold(start, f);
    let [center_lon, center_lat] = ring_center(ring);
    Extent {
        min_lon: fold(f64::min, 0, f64::INFINITY),
        min_lat: fold(f64::min, 1, f64::INFINITY),
        max_lon: fold(f64::max, 0, f64::NEG_INFINITY),
        max_lat: fold(f64::max, 1, f64::NEG_INFINITY),
        center_lon,
        center_lat,
    }
}

fn footprint_json(ring: &[[f64; 2]]) -> String {
    json!({"type": "Polygon", "coordinates": [ring]}).to_string()
}

/// The place columns shared by both datasets (the footprint as GeoJSON and as WKB), then the
/// R*Tree row with its day window.
fn write_place(conn: &Connection, scene_id: i64, ring: &[[f64; 2]], days: (f64, f64)) -> Result<()> {
    let e = extent(ring);
    conn.prepare_cached(
        "UPDATE scenes SET min_lon = ?2, min_lat = ?3, max_lon = ?4, max_lat = ?5, center_lon = ?6, center_lat = ?7,
                footprint = ?8, geom = ?9 WHERE scene_id = ?1",
    )?
    .execute(params![
        scene_id,
        e.min_lon,
        e.min_lat,
        e.max_lon,
        e.max_lat,
        e.center_lon,
        e.center_lat,
        footprint_json(ring),
        wkb::polygon(ring)
    ])?;
    conn.prepare_cached("INSERT OR REPLACE INTO scenes_rtree VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
        .execute(params![scene_id, e.min_lon, e.max_lon, e.min_lat, e.max_lat, days.0, days.1])?;
    Ok(())
}

/// One SEN12TP scene from the metadata. Pixel-derived columns are left as they are.
pub fn upsert_metadata_scene(conn: &Connection, s: &SceneMeta) -> Result<()> {
    let center_lat = extent(&s.ring).center_lat;
    let hemi = hemisphere(center_lat).to_string();
    let season = utc_month(s.s2_ms).and_then(|m| season_of_month(m, center_lat));
    conn.prepare_cached(
        "INSERT INTO scenes (scene_id, dataset, name, roi_id, split, climate, landcover, s1_time, s2_time, dt_hours,
                             month, season, hemisphere, utm_epsg)
         VALUES (?1, 'sen12tp', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (scene_id) DO UPDATE SET dataset = 'sen12tp', name = excluded.name, roi_id = excluded.roi_id,
           split = excluded.split, climate = excluded.climate, landcover = excluded.landcover,
           s1_time = excluded.s1_time, s2_time = excluded.s2_time, dt_hours = excluded.dt_hours,
           month = excluded.month, season = excluded.season, hemisphere = excluded.hemisphere,
           utm_epsg = excluded.utm_epsg",
    )?
    .execute(params![
        s.scene_id,
        s.name(),
        s.spatial_id,
        s.split,
        s.climate,
        s.landcover,
        iso_millis(s.s1_ms),
        iso_millis(s.s2_ms),
        (s.s1_ms - s.s2_ms) as f64 / 3_600_000.0,
        s.month,
        season,
        hemi,
        s.utm_epsg,
    ])?;
    let day = epoch_days_of_millis(s.s2_ms);
    write_place(conn, s.scene_id, &s.ring, (day, day))
}

/// One SEN12MS or SEN12MS-CR triplet, placed by the footprint of one of its files.
pub fn upsert_patch_scene(
    conn: &Connection,
    dataset: Dataset,
    patch: &PatchName,
    ring: &[[f64; 2]],
    epsg: Option<i64>,
    split: Option<&str>,
) -> Result<()> {
    let hemi = hemisphere(extent(ring).center_lat);
    conn.prepare_cached(
        "INSERT INTO scenes (scene_id, dataset, name, roi_id, split, season, hemisphere, utm_epsg, release_season)
         VALUES (?1, ?8, ?2, ?3, ?4, ?5, ?6, ?7, ?9)
         ON CONFLICT (scene_id) DO UPDATE SET dataset = excluded.dataset, name = excluded.name, roi_id = excluded.roi_id, split = excluded.split,
           season = excluded.season, hemisphere = excluded.hemisphere, utm_epsg = excluded.utm_epsg,
           release_season = excluded.release_season",
    )?
    .execute(params![
        patch.scene_id(),
        patch.triplet(),
        patch.scene,
        split,
        season_at(&patch.season, hemi),
        hemi.to_string(),
        epsg,
        dataset.name(),
        season_at(&patch.season, 'N'),
    ])?;
    write_place(conn, patch.scene_id(), ring, patch.day_window())
}

/// Removes everything a file contributed: its row, band statistics and derived scene measures.
pub fn forget_file(conn: &Connection, scene_id: i64, modality: &str) -> Result<()> {
    super::patch_grid::forget(conn, scene_id, modality)?;
    super::quicklooks::forget(conn, scene_id, modality)?;
    conn.prepare_cached("DELETE FROM files WHERE scene_id = ?1 AND modality = ?2")?
        .execute(params![scene_id, modality])?;
    conn.prepare_cached("DELETE FROM band_stats WHERE scene_id = ?1 AND modality = ?2")?
        .execute(params![scene_id, modality])?;
    if let Some(legend) = legend_of(modality) {
        conn.prepare_cached("DELETE FROM landcover WHERE scene_id = ?1 AND source = ?2")?
            .execute(params![scene_id, legend.source])?;
    }
    if Modality::S2.is(modality) {
        conn.prepare_cached(
            "UPDATE scenes SET cloud_fraction = NULL, valid_fraction = NULL, ndvi_mean = NULL WHERE scene_id = ?1",
        )?
        .execute([scene_id])?;
    }
    Ok(())
}

fn legend_of(modality: &str) -> Option<Legend> {
    Modality::from_name(modality).and_then(Modality::legend)
}

/// A scanned file: its `files` row, band statistics (`stats` = 1 when there are some), and what
/// it tells about the scene.
pub fn write_scan(conn: &Connection, file: &FoundFile, scan: &FileScan) -> Result<()> {
    let scene_id = file.scene.scene_id();
    forget_file(conn, scene_id, &file.modality)?;
    insert_file_row(conn, scene_id, file, scan)?;
    insert_band_stats(conn, scene_id, &file.modality, scan)?;
    if let Some(counts) = &scan.patch_counts {
        super::patch_grid::write_cells(conn, scene_id, &file.modality, counts)?;
    }
    if let Some(image) = &scan.quicklook {
        super::quicklooks::write(conn, scene_id, file, image)?;
    }
    write_scene_measures(conn, scene_id, file, scan)
}

fn insert_file_row(conn: &Connection, scene_id: i64, file: &FoundFile, scan: &FileScan) -> Result<()> {
    let info = &scan.info;
    let nodata: rusqlite::types::Value = match info.nodata {
        Some(v) if v.is_nan() => "nan".to_string().into(),
        Some(v) => v.into(),
        None => rusqlite::types::Value::Null,
    };
    conn.prepare_cached(
        "INSERT INTO files (scene_id, modality, path, bytes, mtime, width, height, band_count, dtype, nodata, epsg,
                            geotransform, stats, patch_threshold)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        scene_id,
        file.modality,
        file.relative,
        file.bytes as i64,
        file.mtime_ns,
        info.width as i64,
        info.height as i64,
        info.band_count as i64,
        info.dtype.name(),
        nodata,
        info.epsg,
        info.geotransform.map(|g| json!(g).to_string()),
        !scan.band_stats.is_empty(),
        scan.patch_counts.as_ref().map(|counts| counts.cloud_threshold),
    ])?;
    Ok(())
}

fn insert_band_stats(conn: &Connection, scene_id: i64, modality: &str, scan: &FileScan) -> Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO band_stats (scene_id, modality, band, band_name, valid_count, nodata_count, min, max, mean, stddev,
                                 p02, p50, p98, sketch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    for (index, (stats, name)) in scan.band_stats.iter().zip(&scan.band_names).enumerate() {
        let s = stats.summary.as_ref();
        let p = |i: usize| s.map(|s| s.percentiles[i]);
        insert.execute(params![
            scene_id,
            modality,
            index as i64 + 1,
            name,
            stats.valid_count as i64,
            stats.nodata_count as i64,
            s.map(|s| s.min),
            s.map(|s| s.max),
            s.map(|s| s.mean),
            s.map(|s| s.stddev),
            p(0),
            p(1),
            p(2),
            stats.sketch.encode(),
        ])?;
    }
    Ok(())
}

fn write_scene_measures(conn: &Connection, scene_id: i64, file: &FoundFile, scan: &FileScan) -> Result<()> {
    let (width, height) = (scan.info.width as i64, scan.info.height as i64);
    if Modality::S2.is(&file.modality) {
        conn.prepare_cached("UPDATE scenes SET width = ?2, height = ?3 WHERE scene_id = ?1")?
            .execute(params![scene_id, width, height])?;
    } else {
        conn.prepare_cached(
            "UPDATE scenes SET width = coalesce(width, ?2), height = coalesce(height, ?3) WHERE scene_id = ?1",
        )?
        .execute(params![scene_id, width, height])?;
    }
    if let Some(o) = &scan.optical {
        conn.prepare_cached(
            "UPDATE scenes SET cloud_fraction = ?2, valid_fraction = ?3, ndvi_mean = ?4 WHERE scene_id = ?1",
        )?
        .execute(params![scene_id, o.cloud_fraction, o.valid_fraction, o.ndvi_mean])?;
    }
    if let (Some(classes), Some(legend)) = (&scan.classes, legend_of(&file.modality)) {
        write_landcover(conn, scene_id, legend, classes, file.scene.dataset() == Dataset::Sen12ms)?;
    }
    Ok(())
}

/// Class fractions among valid pixels; for SEN12MS the dominant IGBP class also labels the scene.
fn write_landcover(
    conn: &Connection,
    scene_id: i64,
    legend: Legend,
    classes: &[(i64, u64)],
    label_scene: bool,
) -> Result<()> {
    let total: u64 = classes.iter().map(|c| c.1).sum();
    let mut insert = conn.prepare_cached(
        "INSERT INTO landcover (scene_id, source, class, label, fraction) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for &(class, count) in classes {
        insert.execute(params![scene_id, legend.source, class, legend.label(class), count as f64 / total as f64])?;
    }
    if let Some(&(dominant, _)) = classes.iter().max_by_key(|c| c.1).filter(|_| label_scene) {
        conn.prepare_cached("UPDATE scenes SET landcover = ?2 WHERE scene_id = ?1")?
            .execute(params![scene_id, legend.label(dominant)])?;
    }
    Ok(())
}

pub fn record_error(conn: &Connection, path: &str, stage: &str, message: &str) -> Result<()> {
    let at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    conn.prepare_cached("INSERT INTO ingest_errors (path, stage, message, at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![path, stage, message, at])
        .map(|_| ())
}

pub fn clear_errors(conn: &Connection, path: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM ingest_errors WHERE path = ?1")?.execute([path]).map(|_| ())
}

/// has_files from the files table; SEN12MS and SEN12MS-CR rows (all but SEN12TP's, which come
/// from the metadata) exist only while a file of theirs does.
pub fn refresh_scene_presence(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "UPDATE scenes SET has_files = EXISTS (SELECT 1 FROM files f WHERE f.scene_id = scenes.scene_id);
         DELETE FROM scenes_rtree WHERE scene_id IN
           (SELECT scene_id FROM scenes WHERE dataset <> 'sen12tp' AND has_files = 0);
         DELETE FROM landcover WHERE scene_id IN
           (SELECT scene_id FROM scenes WHERE dataset <> 'sen12tp' AND has_files = 0);
         DELETE FROM scenes WHERE dataset <> 'sen12tp' AND has_files = 0;",
    )
}
