//! `s12_normalization(scene, modality, bands)`, an aggregate: the mean and standard deviation of
//! each band of a list over the group's scenes, in the order asked, for a normalization transform
//! (pooled exactly from band_stats, like `s12_band_summary`).

use crate::catalog::read;
use crate::sql::runtime::aggregate::{pool, Scenes};
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::band_spec;
use rusqlite::types::Value;
use rusqlite::{Connection, Result};
use serde_json::json;

const F: &str = "s12_normalization";

/// JSON {bands, mean, std, count, files, missing}: one entry per band in each array.
pub(crate) fn normalization(conn: &Connection, args: &[Value], scenes: &Scenes) -> Result<Option<String>> {
    let (Some(modality), Some(spec)) = (arguments::text(F, args, 0, "modality")?, band_spec(F, args, 1)?) else {
        return Ok(None);
    };
    let (scene_ids, scene_count) = scenes.ids_json(conn)?;
    let bands: Vec<String> = if spec.trim() == "*" {
        read::band_names_in(conn, &scene_ids, &modality)?
    } else {
        spec.split(',').map(|b| b.trim().to_string()).collect()
    };
    let asked: Vec<&str> = bands.iter().map(String::as_str).collect();
    let pooled = pool(conn, F, &scene_ids, &modality, &asked, false)?;
    let files = pooled.iter().map(|p| p.files).min().unwrap_or(0);
    let mean: Vec<Option<f64>> = pooled.iter().map(|p| (p.moments.count > 0).then_some(p.moments.mean)).collect();
    Ok(Some(
        json!({
            "bands": bands,
            "mean": mean,
            "std": pooled.iter().map(|p| p.moments.stddev()).collect::<Vec<_>>(),
            "count": pooled.iter().map(|p| p.moments.count).collect::<Vec<_>>(),
            "files": files,
            "missing": scene_count as u64 - files.min(scene_count as u64),
        })
        .to_string(),
    ))
}
