//! `s12_window(scene, modality, bands, col, row, width, height)` -> `.npy` BLOB in the file's type.

use super::args;
use super::limits::Limit;
use super::resolve::resolve;
use super::session::Session;
use crate::raster::npy::read_npy;
use crate::raster::open::dtype_name;
use crate::raster::strips::Window;
use rusqlite::functions::Context;
use rusqlite::Result;

pub(super) fn window(ctx: &Context, session: &Session) -> Result<Option<Vec<u8>>> {
    const F: &str = "s12_window";
    let (Some(scene), Some(modality), Some(bands), Some(w)) =
        (args::scene(F, ctx, 0)?, args::text(F, ctx, 1, "modality")?, band_spec(F, ctx, 2)?, args::window(F, ctx, 3)?)
    else {
        return Ok(None);
    };
    // SAFETY: the connection is only used inside this call, on SQLite's own thread.
    let conn = unsafe { ctx.get_connection()? };
    let target = resolve(&conn, F, &scene, &modality)?;
    let bands = target.bands(F, &bands)?;
    let limit = session.limits.window_values;
    let mut call = session.call(F, &conn);
    call.with_dataset(&target, |dataset, guard| {
        let window = checked_window(w, dataset.raster_size(), bands.len(), limit)?;
        let dtype = dtype_name(&dataset.rasterband(1).map_err(|e| e.to_string())?);
        read_npy(dataset, &dtype, &bands, window, guard)
    })
    .map(Some)
}

/// Bands as text (`'B4,B3,B2'`, `'*'`) or a 1-based number.
pub fn band_spec(function: &str, ctx: &(impl args::Args + ?Sized), i: usize) -> Result<Option<String>> {
    match ctx.raw(i) {
        rusqlite::types::ValueRef::Integer(n) => Ok(Some(n.to_string())),
        _ => args::text(function, ctx, i, "bands"),
    }
}

/// A window inside the raster and under the size limit, checked before any read or allocation.
pub fn checked_window(
    [col, row, width, height]: [i64; 4],
    raster: (usize, usize),
    bands: usize,
    limit: Limit,
) -> Result<Window, String> {
    let (raster_w, raster_h) = (raster.0 as i64, raster.1 as i64);
    if width < 1 || height < 1 {
        return Err(format!("window size must be positive, got {width} x {height}"));
    }
    let values = width.saturating_mul(height).saturating_mul(bands as i64);
    limit.check(values as u64, |max| {
        format!("window of {width} x {height} px x {bands} bands is over the limit of {max} values")
    })?;
    if col < 0 || row < 0 || col.saturating_add(width) > raster_w || row.saturating_add(height) > raster_h {
        return Err(format!(
            "window at col {col}, row {row} of {width} x {height} px is outside the raster ({raster_w} x {raster_h} px)"
        ));
    }
    Ok(Window { col: col as usize, row: row as usize, width: width as usize, height: height as usize })
}
