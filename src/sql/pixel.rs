//! `s12_pixel(scene, modality, band, col, row)` -> the value, NULL at nodata.

use super::args;
use super::limits::Limit;
use super::resolve::resolve;
use super::session::Session;
use super::window::{band_spec, checked_window};
use crate::raster::open::gdal_message;
use crate::raster::stats::is_nodata;
use crate::raster::strips::ReadGuard;
use rusqlite::functions::Context;
use rusqlite::types::Value;
use rusqlite::Result;

pub(super) fn pixel(ctx: &Context, session: &Session) -> Result<Value> {
    const F: &str = "s12_pixel";
    let (Some(scene), Some(modality), Some(band), Some(col), Some(row)) = (
        args::scene(F, ctx, 0)?,
        args::text(F, ctx, 1, "modality")?,
        band_spec(F, ctx, 2)?,
        args::integer(F, ctx, 3, "col")?,
        args::integer(F, ctx, 4, "row")?,
    ) else {
        return Ok(Value::Null);
    };
    // SAFETY: the connection is only used inside this call, on SQLite's own thread.
    let conn = unsafe { ctx.get_connection()? };
    let target = resolve(&conn, F, &scene, &modality)?;
    let band = target.band(F, &band)?;
    let limit = session.limits.window_values;
    session.call(F, &conn).with_dataset(&target, |dataset, guard| read_value(dataset, band, [col, row], limit, guard))
}

/// One pixel as an SQL value: an integer for integer bands, a real for float bands, NULL at nodata.
pub fn read_value(
    dataset: &gdal::Dataset,
    band: usize,
    [col, row]: [i64; 2],
    limit: Limit,
    guard: &mut dyn ReadGuard,
) -> Result<Value, String> {
    let window = checked_window([col, row, 1, 1], dataset.raster_size(), 1, limit)?;
    let raster = dataset.rasterband(band).map_err(|e| e.to_string())?;
    let mut value = [0f64];
    guard.before_read(1)?;
    raster
        .read_into_slice((window.col as isize, window.row as isize), (1, 1), (1, 1), &mut value, None)
        .map_err(|e| format!("read error in band {band}: {}", gdal_message(&e)))?;
    Ok(sql_value(value[0], raster.no_data_value(), raster.band_type().is_integer()))
}

/// A raster value as SQL: NULL at nodata, an integer for integer bands, a real for float bands.
pub fn sql_value(v: f64, nodata: Option<f64>, integer_band: bool) -> Value {
    if is_nodata(v, nodata) {
        Value::Null
    } else if integer_band {
        Value::Integer(v as i64)
    } else {
        Value::Real(v)
    }
}
