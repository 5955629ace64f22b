//! The season of each SEN12MS scene. Folder names give the northern meteorological season; the
//! catalog flips it south of the equator, unless the tree ships `seasons.csv` with the real one:
//! then that wins, and where the two disagree the catalog says so (`ingest_errors`, stage
//! `metadata`). Applied to every SEN12MS scene on every run, so adding or removing the file takes
//! effect without rescanning a pixel.

use super::discover::{relative, Found};
use super::write;
use crate::layout::season::season_at;
use crate::layout::sen12ms::{parse_true_seasons, TrueSeasons, SEASONS_FILE};
use rusqlite::{params, Connection, Result};
use std::collections::HashSet;
use std::path::Path;

/// Sets `scenes.season` of every SEN12MS scene; returns the problems recorded (unusable lines of
/// `seasons.csv`, and one disagreement per scene).
pub fn apply_seasons(conn: &Connection, root: &Path, found: &Found) -> Result<usize> {
    let source = found.season_lists.first().map(|path| relative(root, path));
    let listed = match found.season_lists.first() {
        Some(path) => match crate::raster::vsi::read_to_string(path) {
            Ok(text) => parse_true_seasons(&text),
            Err(e) => TrueSeasons { errors: vec![e.to_string()], ..TrueSeasons::default() },
        },
        None => TrueSeasons::default(),
    };
    conn.execute_batch("BEGIN IMMEDIATE")?;
    // Whatever a seasons.csv said last run (it may be gone now) is said again below if still true.
    conn.execute(
        "DELETE FROM ingest_errors WHERE stage = 'metadata' AND (path = ?1 OR path LIKE ?2)",
        params![SEASONS_FILE, format!("%/{SEASONS_FILE}")],
    )?;
    let mut problems = 0;
    for message in &listed.errors {
        write::record_error(conn, source.as_deref().unwrap_or_default(), "metadata", message)?;
        problems += 1;
    }
    let mut reported = HashSet::new();
    for (scene_id, name, hemisphere) in sen12ms_scenes(conn)? {
        let Some((key, by_latitude)) = rule_of(&name, hemisphere) else { continue };
        let season = match listed.seasons.get(&key) {
            Some(&real) if Some(real) != by_latitude && reported.insert(key.clone()) => {
                let rule = by_latitude.unwrap_or("unknown");
                let message =
                    format!("{key}: the file says {real}, the latitude rule {rule}; the catalog keeps {real}");
                write::record_error(conn, source.as_deref().unwrap_or_default(), "metadata", &message)?;
                problems += 1;
                Some(real)
            }
            Some(&real) => Some(real),
            None => by_latitude,
        };
        conn.prepare_cached("UPDATE scenes SET season = ?2 WHERE scene_id = ?1 AND season IS NOT ?2")?
            .execute(params![scene_id, season])?;
    }
    conn.execute_batch("COMMIT")?;
    Ok(problems)
}

fn sen12ms_scenes(conn: &Connection) -> Result<Vec<(i64, String, Option<String>)>> {
    let mut statement =
        conn.prepare("SELECT scene_id, name, hemisphere FROM scenes WHERE dataset IN ('sen12ms', 'sen12ms-cr')")?;
    let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

/// A triplet's scene key and its season by the latitude rule: `ROIs1158_spring_1_p30` in the
/// south -> (`ROIs1158_spring_1`, autumn).
fn rule_of(triplet: &str, hemisphere: Option<String>) -> Option<(String, Option<&'static str>)> {
    let (key, _patch) = triplet.rsplit_once("_p")?;
    let folder_season = key.split('_').nth(1)?;
    let hemisphere = hemisphere.and_then(|h| h.chars().next()).unwrap_or('N');
    Some((key.to_string(), season_at(folder_season, hemisphere)))
}
