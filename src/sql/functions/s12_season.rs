//! `s12_season(time, lat)`: the catalog's season rule as a pure function.

use crate::layout::season::{parse_time_millis, season_of_month, utc_month};
use crate::sql::runtime::arguments::{self, describe};
use rusqlite::functions::Context;
use rusqlite::types::ValueRef;
use rusqlite::{Error, Result};

/// `time` is ISO-8601 text or Unix milliseconds; NULL in, NULL out.
pub(crate) fn season(ctx: &Context) -> Result<Option<&'static str>> {
    let millis = match ctx.get_raw(0) {
        ValueRef::Null => return Ok(None),
        ValueRef::Integer(ms) => Some(ms),
        ValueRef::Real(ms) if ms.is_finite() => Some(ms as i64),
        ValueRef::Text(text) => std::str::from_utf8(text).ok().and_then(parse_time_millis),
        _ => None,
    }
    .ok_or_else(|| {
        fail(format!("time must be ISO-8601 text or Unix milliseconds, got {}", describe(ctx.get_raw(0))))
    })?;
    let Some(lat) = arguments::real("s12_season", ctx, 1, "lat")? else { return Ok(None) };
    if !(-90.0..=90.0).contains(&lat) {
        return Err(fail(format!("lat must be within -90..90, got {lat}")));
    }
    Ok(utc_month(millis).and_then(|m| season_of_month(m, lat)))
}

fn fail(message: String) -> Error {
    arguments::fail("s12_season", message)
}
