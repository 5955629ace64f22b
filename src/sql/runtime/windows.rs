//! Pixel windows checked against the raster and the limits before any read or allocation.

use super::error::{CallError, CallResult};
use super::limits::Limit;
use crate::raster::strips::Window;
use gdal::Dataset;

/// A window inside the raster and under the size limit, checked before any read or allocation.
pub fn checked_window(
    [col, row, width, height]: [i64; 4],
    raster: (usize, usize),
    bands: usize,
    limit: Limit,
) -> CallResult<Window> {
    let (raster_w, raster_h) = (raster.0 as i64, raster.1 as i64);
    if width < 1 || height < 1 {
        return Err(CallError::Invalid(format!("window size must be positive, got {width} x {height}")));
    }
    let values = width.saturating_mul(height).saturating_mul(bands as i64);
    limit.check(values as u64, |max| {
        format!("window of {width} x {height} px x {bands} bands is over the limit of {max} values")
    })?;
    if col < 0 || row < 0 || col.saturating_add(width) > raster_w || row.saturating_add(height) > raster_h {
        return Err(CallError::Invalid(format!(
            "window at col {col}, row {row} of {width} x {height} px is outside the raster ({raster_w} x {raster_h} px)"
        )));
    }
    Ok(Window { col: col as usize, row: row as usize, width: width as usize, height: height as usize })
}

/// The requested window checked against `dataset`, or the whole raster when none is asked for.
pub fn window_of(dataset: &Dataset, requested: Option<[i64; 4]>, bands: usize, limit: Limit) -> CallResult<Window> {
    let (w, h) = dataset.raster_size();
    requested.map_or(Ok(Window::whole(w, h)), |r| checked_window(r, (w, h), bands, limit))
}
