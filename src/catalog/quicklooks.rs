//! The quicklooks the ingest keeps (`quicklooks`, docs/catalog.md): which one of each file, and its row.

use super::discover::FoundFile;
use crate::raster::kept_quicklook::{look_of, KeptImage, Look};
use rusqlite::{params, Connection, Result};

/// The quicklook the ingest keeps of a file, and what `s12_png` calls it (see [`look_of`]).
pub fn kept_look(file: &FoundFile) -> Option<(&'static str, Look)> {
    look_of(file.scene.dataset(), &file.modality)
}

/// Writes a file's quicklook (its earlier one is gone with `forget`).
pub fn write(conn: &Connection, scene_id: i64, file: &FoundFile, image: &KeptImage) -> Result<()> {
    let Some((what, _)) = kept_look(file) else { return Ok(()) };
    conn.prepare_cached(
        "INSERT INTO quicklooks (scene_id, what, modality, width, height, png) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![scene_id, what, file.modality, image.width as i64, image.height as i64, image.png])?;
    Ok(())
}

/// Forgets the quicklook of a scene's file of `modality`.
pub fn forget(conn: &Connection, scene_id: i64, modality: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM quicklooks WHERE scene_id = ?1 AND modality = ?2")?
        .execute(params![scene_id, modality])?;
    Ok(())
}
