//! Reading a window of several bands strip by strip, as f64, in bounded memory.

use super::open::gdal_message;
use gdal::Dataset;

/// Values held for one strip of all requested bands. Bounds memory whatever the window size.
const STRIP_BYTES: usize = 16 << 20;
/// One row is the least a strip holds: a header claiming a wider raster is refused, not allocated.
const MAX_ROW_BYTES: usize = 256 << 20;

/// A pixel window: column, row, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub col: usize,
    pub row: usize,
    pub width: usize,
    pub height: usize,
}

impl Window {
    pub fn whole(width: usize, height: usize) -> Window {
        Window { col: 0, row: 0, width, height }
    }

    pub fn pixels(&self) -> usize {
        self.width * self.height
    }
}

/// Asked before every read of a strip or chunk, with the number of values it will read: the
/// extension stops there when the host interrupts the query or a call reads more than the
/// operator allows; the ingest reads unguarded.
pub trait ReadGuard {
    fn before_read(&mut self, values: usize) -> Result<(), String>;
}

/// Reads without a guard.
pub struct Unguarded;

impl ReadGuard for Unguarded {
    fn before_read(&mut self, _: usize) -> Result<(), String> {
        Ok(())
    }
}

/// Calls `visit(strips, pixels)` for consecutive row strips of `window`; `strips[i]` holds the
/// values of `bands[i]` (1-based band numbers), row-major, `pixels` of them valid. `guard` is
/// asked before each strip is read.
pub fn for_each_strip(
    dataset: &Dataset,
    bands: &[usize],
    window: Window,
    guard: &mut dyn ReadGuard,
    mut visit: impl FnMut(&[Vec<f64>], usize),
) -> Result<(), String> {
    let handles: Vec<_> =
        bands.iter().map(|&i| dataset.rasterband(i).map_err(|e| format!("band {i}: {e}"))).collect::<Result<_, _>>()?;
    let width = window.width.max(1);
    if width.saturating_mul(8 * bands.len()) > MAX_ROW_BYTES {
        return Err(format!("a row of {} px x {} bands is too wide to read (limit {} MiB a row)", window.width, bands.len(), MAX_ROW_BYTES >> 20));
    }
    let rows_per_strip = (STRIP_BYTES / (8 * width * bands.len().max(1))).clamp(1, window.height.max(1));
    let mut strips = vec![vec![0f64; width * rows_per_strip]; bands.len()];
    for top in (0..window.height).step_by(rows_per_strip) {
        let rows = rows_per_strip.min(window.height - top);
        let y = (window.row + top) as isize;
        guard.before_read(window.width * rows * bands.len())?;
        for ((buffer, band), number) in strips.iter_mut().zip(&handles).zip(bands) {
            let buffer = &mut buffer[..window.width * rows];
            band.read_into_slice((window.col as isize, y), (window.width, rows), (window.width, rows), buffer, None)
                .map_err(|e| format!("read error in band {number} at rows {y}..{}: {}", y + rows as isize, gdal_message(&e)))?;
        }
        visit(&strips, window.width * rows);
    }
    Ok(())
}

/// All values of `bands` over `window`, one row-major vector per band (callers bound the window).
pub fn read_bands(dataset: &Dataset, bands: &[usize], window: Window, guard: &mut dyn ReadGuard) -> Result<Vec<Vec<f64>>, String> {
    let mut out = vec![Vec::with_capacity(window.pixels()); bands.len()];
    for_each_strip(dataset, bands, window, guard, |strips, pixels| {
        for (values, strip) in out.iter_mut().zip(strips) {
            values.extend_from_slice(&strip[..pixels]);
        }
    })?;
    Ok(out)
}
