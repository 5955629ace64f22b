//! `s12_pixel(scene, modality, band, col, row)` -> the value, NULL at nodata.

use super::session::Session;
use super::utils::{self, band_spec, read_value};
use rusqlite::functions::Context;
use rusqlite::types::Value;
use rusqlite::Result;

pub(super) fn pixel(ctx: &Context, session: &Session) -> Result<Value> {
    const F: &str = "s12_pixel";
    let (Some(scene), Some(modality), Some(band), Some(col), Some(row)) = (
        utils::scene(F, ctx, 0)?,
        utils::text(F, ctx, 1, "modality")?,
        band_spec(F, ctx, 2)?,
        utils::integer(F, ctx, 3, "col")?,
        utils::integer(F, ctx, 4, "row")?,
    ) else {
        return Ok(Value::Null);
    };
    let conn = utils::connection(ctx)?;
    let target = session.resolve(&conn, F, &scene, &modality)?;
    let band = target.band(F, &band)?;
    let limit = session.limits.window_values;
    session.call(F, &conn).with_dataset(&target, |dataset, guard| read_value(dataset, band, [col, row], limit, guard))
}
