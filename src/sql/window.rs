//! `s12_window(scene, modality, bands, col, row, width, height)` -> `.npy` BLOB in the file's type.

use super::resolve::resolve;
use super::session::Session;
use super::utils::{self, band_spec, checked_window};
use crate::raster::npy::read_npy;
use rusqlite::functions::Context;
use rusqlite::Result;

pub(super) fn window(ctx: &Context, session: &Session) -> Result<Option<Vec<u8>>> {
    const F: &str = "s12_window";
    let (Some(scene), Some(modality), Some(bands), Some(w)) = (
        utils::scene(F, ctx, 0)?,
        utils::text(F, ctx, 1, "modality")?,
        band_spec(F, ctx, 2)?,
        utils::window(F, ctx, 3)?,
    ) else {
        return Ok(None);
    };
    let conn = utils::connection(ctx)?;
    let target = resolve(&conn, F, &scene, &modality)?;
    let bands = target.bands(F, &bands)?;
    let limit = session.limits.window_values;
    let mut call = session.call(F, &conn);
    call.with_dataset(&target, |dataset, guard| {
        let window = checked_window(w, dataset.raster_size(), bands.len(), limit)?;
        let dtype = dataset.rasterband(1).map_err(|e| e.to_string())?.band_type();
        read_npy(dataset, dtype, &bands, window, guard)
    })
    .map(Some)
}
