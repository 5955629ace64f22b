//! Raster values as SQL values: one pixel (NULL at nodata, an integer for integer bands) and band
//! statistics as JSON.

use super::error::CallResult;
use super::limits::Limit;
use super::windows::checked_window;
use crate::raster::pixel::pixel_value;
use crate::raster::stats::{is_nodata, BandStats};
use crate::raster::strips::ReadGuard;
use crate::raster::RasterError;
use rusqlite::types::Value;

/// The value of one pixel as SQL (NULL at nodata, an integer for integer bands), after checking
/// that the pixel is inside the raster.
pub fn read_value(
    dataset: &gdal::Dataset,
    band: usize,
    [col, row]: [i64; 2],
    limit: Limit,
    guard: &mut dyn ReadGuard,
) -> CallResult<Value> {
    let window = checked_window([col, row, 1, 1], dataset.raster_size(), 1, limit)?;
    let integer = dataset.rasterband(band).map_err(|e| RasterError::no_band(band, e))?.band_type().is_integer();
    let value = pixel_value(dataset, band, [window.col as i64, window.row as i64], guard)?;
    Ok(value.map_or(Value::Null, |v| sql_value(v, None, integer)))
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

/// Band statistics as `s12_stats` and `s12_zonal` give them: JSON {count, min, max, mean, stddev}.
pub fn stats_json(stats: &BandStats) -> String {
    let summary = stats.summary.as_ref();
    serde_json::json!({
        "count": stats.valid_count,
        "min": summary.map(|s| s.min),
        "max": summary.map(|s| s.max),
        "mean": summary.map(|s| s.mean),
        "stddev": summary.map(|s| s.stddev),
    })
    .to_string()
}
