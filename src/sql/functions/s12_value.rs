//! `s12_value(scene, modality, band, lon, lat)` -> the value of the pixel containing a WGS84 point,
//! NULL outside the raster or at nodata.

use crate::raster::pixel::pixel_of;
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::{band_spec, fail};
use crate::sql::runtime::session::Session;
use crate::sql::runtime::values::read_value;
use rusqlite::functions::Context;
use rusqlite::types::Value;
use rusqlite::Result;

pub(crate) fn value(ctx: &Context, session: &Session) -> Result<Value> {
    const F: &str = "s12_value";
    let (Some(scene), Some(modality), Some(band), Some(lon), Some(lat)) = (
        arguments::scene(F, ctx, 0)?,
        arguments::text(F, ctx, 1, "modality")?,
        band_spec(F, ctx, 2)?,
        arguments::real(F, ctx, 3, "lon")?,
        arguments::real(F, ctx, 4, "lat")?,
    ) else {
        return Ok(Value::Null);
    };
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(fail(F, format!("({lon}, {lat}) is not a WGS84 lon/lat position")));
    }
    let conn = arguments::connection(ctx)?;
    let target = session.file(&conn, F, &scene, &modality)?;
    let band = target.band(F, &band)?;
    let limit = session.limits.window_values;
    session.call(F, &conn).with_dataset(&target, |dataset, guard| match pixel_of(dataset, lon, lat)? {
        Some(position) => read_value(dataset, band, position, limit, guard),
        None => Ok(Value::Null),
    })
}
