//! `s12_pixel(scene, modality, band, col, row)` -> the value, NULL at nodata.

use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::band_spec;
use crate::sql::runtime::session::Session;
use crate::sql::runtime::values::read_value;
use rusqlite::functions::Context;
use rusqlite::types::Value;
use rusqlite::Result;

pub(crate) fn pixel(ctx: &Context, session: &Session) -> Result<Value> {
    const F: &str = "s12_pixel";
    let (Some(scene), Some(modality), Some(band), Some(col), Some(row)) = (
        arguments::scene(F, ctx, 0)?,
        arguments::text(F, ctx, 1, "modality")?,
        band_spec(F, ctx, 2)?,
        arguments::integer(F, ctx, 3, "col")?,
        arguments::integer(F, ctx, 4, "row")?,
    ) else {
        return Ok(Value::Null);
    };
    let conn = arguments::connection(ctx)?;
    let target = session.file(&conn, F, &scene, &modality)?;
    let band = target.band(F, &band)?;
    let limit = session.limits.window_values;
    session.call(F, &conn).with_dataset(&target, |dataset, guard| read_value(dataset, band, [col, row], limit, guard))
}
