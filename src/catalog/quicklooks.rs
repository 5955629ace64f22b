//! The quicklooks the ingest keeps (`quicklooks`, docs/catalog.md): which one of each file, and its row.

use super::discover::FoundFile;
use crate::layout::sen12ms::IGBP_PALETTE;
use crate::layout::sen12tp::WORLDCOVER_PALETTE;
use crate::layout::Modality;
use crate::raster::kept_quicklook::{KeptImage, Look};
use rusqlite::{params, Connection, Result};

/// The quicklook the ingest keeps of a file, and what `s12_png` calls it: an S2 file in true
/// colour (`rgb`), an S1 file's VV (`vv`), a land-cover map in its legend's colours
/// (`worldcover`, `igbp`).
pub fn kept_look(file: &FoundFile) -> Option<(&'static str, Look)> {
    let dataset = file.scene.dataset();
    let modality = dataset.modality(&file.modality)?;
    let names = dataset.band_names(&file.modality)?;
    let band = |name: &str| names.iter().position(|n| *n == name || n.strip_suffix("_sigma0") == Some(name));
    match modality {
        Modality::S2 => Some(("rgb", Look::Stretched(vec![band("B4")?, band("B3")?, band("B2")?]))),
        Modality::S1 => Some(("vv", Look::Stretched(vec![band("VV")?]))),
        Modality::Worldcover => Some(("worldcover", Look::Classes { band: 0, colours: &WORLDCOVER_PALETTE })),
        Modality::Lc => Some(("igbp", Look::Classes { band: 0, colours: &IGBP_PALETTE })),
        _ => None,
    }
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
