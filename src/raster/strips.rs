//! Reading a window of several bands strip by strip, as f64 (or another type), in bounded memory.

use super::error::{RasterError, Result};
use super::open::last_gdal_error;
use super::stats::Sample;
use gdal::raster::GdalType;
use gdal::Dataset;
use std::ffi::{c_int, c_void};

/// Values one GDAL read decodes at most (counting every band of the file, since a pixel-interleaved
/// tile is decoded whole): four 256 px tiles of a 13-band S2 file, so any 256 px window is one read
/// and a guard asked between reads answers within tens of milliseconds.
pub const PIECE_VALUES: usize = 4 << 20;

/// Values held for one strip of all requested bands. Bounds memory whatever the window size.
pub(super) const STRIP_BYTES: usize = 16 << 20;
/// Rows a strip may always hold, whatever the file's block height (striped files have 1-row blocks).
pub(super) const MIN_STRIP_ROWS: usize = 128;
/// One row is the least a strip holds: a header claiming a wider raster is refused, not allocated.
const MAX_ROW_BYTES: usize = 256 << 20;

/// A pixel window: column, row, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First column.
    pub col: usize,
    /// First row.
    pub row: usize,
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
}

impl Window {
    /// The whole of a `width` x `height` raster.
    pub fn whole(width: usize, height: usize) -> Window {
        Window { col: 0, row: 0, width, height }
    }

    /// Pixels in the window.
    pub fn pixels(&self) -> usize {
        self.width * self.height
    }
}

/// Asked before every read of a strip or chunk, with the number of values it will read: the
/// extension stops there when the host interrupts the query or a call reads more than the
/// operator allows; the ingest reads unguarded.
pub trait ReadGuard {
    /// Err ([`RasterError::Stopped`]) stops the read, with the message the caller reports.
    fn before_read(&mut self, values: usize) -> Result<()>;

    /// Asked between long steps that read nothing (reprojecting, converting).
    fn poll(&mut self) -> Result<()> {
        self.before_read(0)
    }

    /// How many values one read may decode: reads are split along the block grid to ask the
    /// guard that often.
    fn piece_values(&self) -> usize {
        PIECE_VALUES
    }
}

/// Reads without a guard.
pub struct Unguarded;

impl ReadGuard for Unguarded {
    fn before_read(&mut self, _: usize) -> Result<()> {
        Ok(())
    }

    /// Nothing to ask between reads: whole strips, in as few reads as possible.
    fn piece_values(&self) -> usize {
        usize::MAX
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
    visit: impl FnMut(&[Vec<f64>], usize),
) -> Result<()> {
    for_each_strip_in(dataset, bands, window, guard, &mut Vec::new(), visit)
}

/// What visits the strips of a read whatever their sample type.
pub trait StripVisitor {
    /// The next strip: `pixels` values of each band.
    fn visit<T: Sample>(&mut self, strips: &[Vec<T>], pixels: usize);
}

/// [`for_each_strip`] with the strips in the bands' own sample type when they share one (8-, 16- or
/// 32-bit integers, float32), else as f64: GDAL copies them without converting, and a strip is
/// 2 to 8 times less memory to write and read again.
pub fn for_each_native_strip(
    dataset: &Dataset,
    bands: &[usize],
    window: Window,
    guard: &mut dyn ReadGuard,
    visitor: &mut impl StripVisitor,
) -> Result<()> {
    use gdal::raster::GdalDataType::{Float32, Int16, Int32, UInt16, UInt32, UInt8};
    let types: Vec<_> = bands
        .iter()
        .map(|&b| dataset.rasterband(b).map(|r| r.band_type()).map_err(|e| RasterError::no_band(b, e)))
        .collect::<Result<_>>()?;
    let common = types.first().copied().filter(|first| types.iter().all(|t| t == first));
    /// The read as `T`; `read` is (dataset, bands, window).
    fn run<T: GdalType + Default + Sample>(
        (dataset, bands, window): (&Dataset, &[usize], Window),
        guard: &mut dyn ReadGuard,
        visitor: &mut impl StripVisitor,
    ) -> Result<()> {
        for_each_strip_in::<T>(dataset, bands, window, guard, &mut Vec::new(), |strips, pixels| {
            visitor.visit(strips, pixels);
        })
    }
    let read = (dataset, bands, window);
    match common {
        Some(UInt8) => run::<u8>(read, guard, visitor),
        Some(UInt16) => run::<u16>(read, guard, visitor),
        Some(Int16) => run::<i16>(read, guard, visitor),
        Some(UInt32) => run::<u32>(read, guard, visitor),
        Some(Int32) => run::<i32>(read, guard, visitor),
        Some(Float32) => run::<f32>(read, guard, visitor),
        _ => run::<f64>(read, guard, visitor),
    }
}

/// [`for_each_strip`], reading values as `T` (GDAL converts) into `strips`, whose buffers are
/// grown as needed and kept for the caller's next read (an ingest worker reads thousands of small
/// files; an integer band read as integers costs GDAL no conversion to f64 and its histogram no
/// conversion back).
pub fn for_each_strip_in<T: GdalType + Copy + Default>(
    dataset: &Dataset,
    bands: &[usize],
    window: Window,
    guard: &mut dyn ReadGuard,
    strips: &mut Vec<Vec<T>>,
    mut visit: impl FnMut(&[Vec<T>], usize),
) -> Result<()> {
    let handles: Vec<_> =
        bands.iter().map(|&i| dataset.rasterband(i).map_err(|e| RasterError::no_band(i, e))).collect::<Result<_>>()?;
    let width = window.width.max(1);
    if width.saturating_mul(8 * bands.len()) > MAX_ROW_BYTES {
        return Err(RasterError::TooLarge(format!(
            "a row of {} px x {} bands is too wide to read (limit {} MiB a row)",
            window.width,
            bands.len(),
            MAX_ROW_BYTES >> 20
        )));
    }
    let rows_per_strip =
        (STRIP_BYTES / (8 * width * bands.len().max(1))).min(rows_of_blocks(&handles)).clamp(1, window.height.max(1));
    let block = handles.first().map_or((1, 1), gdal::raster::RasterBand::block_size);
    strips.resize_with(bands.len(), Vec::new);
    strips.truncate(bands.len());
    // Every value a visit sees is written by GDAL first: the buffers' old values are never read.
    strips.iter_mut().for_each(|buffer| buffer.resize(width * rows_per_strip, T::default()));
    for top in (0..window.height).step_by(rows_per_strip) {
        let rows = rows_per_strip.min(window.height - top);
        let strip = Window { row: window.row + top, height: rows, ..window };
        for piece in pieces(strip, block, dataset.raster_count(), guard.piece_values()) {
            guard.before_read(piece.pixels() * bands.len())?;
            read_piece_into_strips(dataset, bands, piece, strip, strips)?;
        }
        visit(strips, window.width * rows);
    }
    Ok(())
}

/// Reads `piece` of `bands` (1-based) into `strips`, one buffer a band holding `strip` row-major
/// (the piece lies inside it, and each buffer holds at least its pixels).
pub fn read_piece_into_strips<T: GdalType + Copy>(
    dataset: &Dataset,
    bands: &[usize],
    piece: Window,
    strip: Window,
    strips: &mut [Vec<T>],
) -> Result<()> {
    let value_bytes = std::mem::size_of::<T>();
    let offset = (piece.row - strip.row) * strip.width + (piece.col - strip.col);
    let last = offset + (piece.height - 1) * strip.width + piece.width;
    for (buffer, &number) in strips.iter_mut().zip(bands) {
        if piece.pixels() == 0 || buffer.len() < last {
            return Err(RasterError::Internal(format!(
                "a strip of {} values for {piece:?} in {strip:?}",
                buffer.len()
            )));
        }
        let to = Destination {
            data: buffer[offset..].as_mut_ptr().cast(),
            pixel: value_bytes,
            line: strip.width * value_bytes,
            band: 0,
        };
        // SAFETY: the piece's rows are `strip.width` values of T apart from `offset` on, and its
        // last value is inside `buffer` (checked above): every value written is in it.
        unsafe { read_piece(dataset, &[number], piece, T::gdal_ordinal(), to) }.map_err(|reason| {
            let rows = piece.row..piece.row + piece.height;
            RasterError::Read { what: format!("band {number} at rows {rows:?}"), reason }
        })?;
    }
    Ok(())
}

/// Where GDAL writes a read: the address of its first value, and the distance in bytes between
/// neighbouring pixels, rows and bands of the destination (RasterIO's pixel, line and band space).
#[derive(Debug, Clone, Copy)]
pub struct Destination {
    /// Where the first value goes.
    pub data: *mut u8,
    /// Bytes from one pixel to the next.
    pub pixel: usize,
    /// Bytes from one row to the next.
    pub line: usize,
    /// Bytes from one band to the next.
    pub band: usize,
}

/// Reads `bands` (1-based) of `piece` as `dtype` into `to`, in one dataset-level RasterIO: for a
/// pixel-interleaved file GDAL then decodes each tile once for all bands. The error is GDAL's.
///
/// # Safety
/// Every address `to` spells for the piece's pixels, rows and bands must lie in one writable
/// allocation and be aligned for `dtype`.
pub unsafe fn read_piece(
    dataset: &Dataset,
    bands: &[usize],
    piece: Window,
    dtype: gdal_sys::GDALDataType::Type,
    to: Destination,
) -> std::result::Result<(), String> {
    let mut band_map: Vec<c_int> = bands.iter().map(|&b| b as c_int).collect();
    let (col, row, width, height) =
        (piece.col as c_int, piece.row as c_int, piece.width as c_int, piece.height as c_int);
    // SAFETY: the dataset is open; `band_map` holds `bands.len()` band numbers; the caller vouches
    // that every address `to` spells for this piece is writable and aligned for `dtype`.
    let status = unsafe {
        gdal_sys::GDALDatasetRasterIO(
            dataset.c_dataset(),
            gdal_sys::GDALRWFlag::GF_Read,
            col,
            row,
            width,
            height,
            to.data.cast::<c_void>(),
            width,
            height,
            dtype,
            band_map.len() as c_int,
            band_map.as_mut_ptr(),
            to.pixel as c_int,
            to.line as c_int,
            to.band as c_int,
        )
    };
    match status {
        gdal_sys::CPLErr::CE_None => Ok(()),
        _ => Err(last_gdal_error()),
    }
}

/// Pieces that cover `window` exactly, row by row, cut along the file's block grid (`block` is
/// its block size) so that reading one decodes at most about `max_values` values of `bands` bands
/// (at least one block).
pub fn pieces(window: Window, block: (usize, usize), bands: usize, max_values: usize) -> Vec<Window> {
    let (block_w, block_h) = (block.0.max(1), block.1.max(1));
    let block_values = block_w * block_h * bands.max(1);
    let (right, bottom) = (window.col + window.width, window.row + window.height);
    let touched =
        |start: usize, end: usize, size: usize| if end > start { (end - 1) / size - start / size + 1 } else { 0 };
    let blocks = touched(window.col, right, block_w) * touched(window.row, bottom, block_h);
    if blocks == 0 {
        return Vec::new();
    }
    if blocks.saturating_mul(block_values) <= max_values {
        return vec![window];
    }
    // Never more blocks across than the grid has up to the window's right edge.
    let across = (max_values / block_values).clamp(1, right.div_ceil(block_w).max(1));
    let down = (max_values / (block_values * across)).max(1);
    let (step_x, step_y) = (block_w * across, block_h.saturating_mul(down));
    let mut out = Vec::new();
    let mut y = window.row;
    while y < bottom {
        let y_end = ((y / step_y + 1).saturating_mul(step_y)).min(bottom);
        let mut x = window.col;
        while x < right {
            let x_end = ((x / step_x + 1) * step_x).min(right);
            out.push(Window { col: x, row: y, width: x_end - x, height: y_end - y });
            x = x_end;
        }
        y = y_end;
    }
    out
}

/// At most one row of the file's blocks (tiles), and no fewer than MIN_STRIP_ROWS: a strip then
/// decodes each tile once, and a guard is asked again after about one tile row (a few tens of ms
/// on a 2000 px S2 file), however many bands are read.
fn rows_of_blocks(bands: &[gdal::raster::RasterBand]) -> usize {
    let block_rows = bands.first().map_or(MIN_STRIP_ROWS, |band| band.block_size().1);
    block_rows.max(MIN_STRIP_ROWS)
}

/// All values of `bands` over `window`, one row-major vector per band (callers bound the window).
pub fn read_bands(
    dataset: &Dataset,
    bands: &[usize],
    window: Window,
    guard: &mut dyn ReadGuard,
) -> Result<Vec<Vec<f64>>> {
    let mut out = vec![Vec::with_capacity(window.pixels()); bands.len()];
    for_each_strip(dataset, bands, window, guard, |strips, pixels| {
        for (values, strip) in out.iter_mut().zip(strips) {
            values.extend_from_slice(&strip[..pixels]);
        }
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pixel of the window is in exactly one piece, and no piece crosses a block boundary
    /// it need not cross.
    fn check(window: Window, block: (usize, usize), bands: usize, max_values: usize) -> Vec<Window> {
        let pieces = pieces(window, block, bands, max_values);
        let mut seen = vec![0u8; window.pixels()];
        for p in &pieces {
            for y in p.row..p.row + p.height {
                for x in p.col..p.col + p.width {
                    seen[(y - window.row) * window.width + (x - window.col)] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&n| n == 1), "{window:?} {block:?}: {pieces:?}");
        pieces
    }

    #[test]
    fn pieces_tile_the_window_along_the_block_grid() {
        // A whole 2000 px scene of 256 px tiles, 13 bands: four tiles a piece, 8 tile rows x 2.
        let whole = check(Window::whole(2000, 2000), (256, 256), 13, PIECE_VALUES);
        assert_eq!(whole.len(), 16);
        assert_eq!(whole[0], Window { col: 0, row: 0, width: 1024, height: 256 });
        assert_eq!(whole[1], Window { col: 1024, row: 0, width: 976, height: 256 });
        // A 256 px window off the grid touches four tiles: one read.
        let window = Window { col: 300, row: 100, width: 256, height: 256 };
        assert_eq!(check(window, (256, 256), 13, PIECE_VALUES), [window]);
        // Past four tiles it is cut where the tiles are.
        let wider = Window { col: 300, row: 100, width: 500, height: 256 };
        assert_eq!(check(wider, (256, 256), 13, PIECE_VALUES).len(), 2);
        // One-row strips: many rows a piece, never less than a block.
        let striped = check(Window::whole(2000, 2000), (2000, 1), 13, PIECE_VALUES);
        assert_eq!(striped[0], Window { col: 0, row: 0, width: 2000, height: 161 });
        assert_eq!(check(Window { col: 7, row: 3, width: 5, height: 9 }, (4, 4), 1, 1).len(), 2 * 3);
        assert!(check(Window { col: 0, row: 0, width: 0, height: 0 }, (256, 256), 13, PIECE_VALUES).is_empty());
        // Unguarded reads: the whole window in one piece.
        assert_eq!(check(Window { col: 300, row: 7, width: 1700, height: 80 }, (256, 256), 13, usize::MAX).len(), 1);
    }
}
