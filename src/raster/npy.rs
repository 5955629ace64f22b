//! Windows as `.npy` (format 1.0): `numpy.load(io.BytesIO(blob))` gives a (bands, rows, cols) array.

use super::error::{RasterError, Result};
use super::open::block_cache_max;
use super::strips::{pieces, read_piece, Destination, ReadGuard, Window};
use super::tiles::RawTiles;
use gdal::raster::{GdalDataType, GdalType};
use gdal::Dataset;
use std::mem::MaybeUninit;

/// numpy's type string for a GDAL type.
pub fn numpy_descr(dtype: GdalDataType) -> Option<&'static str> {
    Some(match dtype {
        GdalDataType::UInt8 => "|u1",
        GdalDataType::UInt16 => "<u2",
        GdalDataType::Int16 => "<i2",
        GdalDataType::UInt32 => "<u4",
        GdalDataType::Int32 => "<i4",
        GdalDataType::Float32 => "<f4",
        GdalDataType::Float64 => "<f8",
        _ => return None,
    })
}

/// The header: magic, version 1.0, length, and a dict padded so the data starts at a multiple of 64.
pub fn npy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(std::string::ToString::to_string).collect();
    let shape_text = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    let unpadded = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// A window's `.npy` encoding, sized before anything is read or allocated.
pub struct NpyLayout {
    header: Vec<u8>,
    dtype: GdalDataType,
    /// Bytes of the whole encoding: header and values.
    pub len: usize,
}

/// The `.npy` layout of `bands` bands of `window` in `dtype` (bands, rows, cols).
pub fn npy_layout(dtype: GdalDataType, bands: usize, window: Window) -> Result<NpyLayout> {
    let descr = numpy_descr(dtype).ok_or_else(|| RasterError::NoNumpyType(dtype.to_string()))?;
    let header = npy_header(descr, &[bands, window.height, window.width]);
    let len = header.len() + bands * window.pixels() * dtype.bytes() as usize;
    Ok(NpyLayout { header, dtype, len })
}

/// Reads `bands` (1-based) of `window` in the file's own type into `out` as `.npy` (`out` is
/// `layout.len` bytes, not yet written: every value is written in place, so nothing is zeroed or
/// copied), from the file's tiles if it has them ([`write_values_from`]); `guard` is asked before
/// each piece or tile. `out` must be 8-byte aligned.
pub fn write_npy(
    (dataset, tiles): (&Dataset, Option<&mut RawTiles>),
    layout: &NpyLayout,
    bands: &[usize],
    window: Window,
    guard: &mut dyn ReadGuard,
    out: &mut [MaybeUninit<u8>],
) -> Result<()> {
    if out.len() != layout.len {
        return Err(RasterError::Internal(format!("a .npy buffer of {} bytes for {}", out.len(), layout.len)));
    }
    let (header, values) = out.split_at_mut(layout.header.len());
    for (slot, byte) in header.iter_mut().zip(&layout.header) {
        slot.write(*byte);
    }
    write_values_from((dataset, tiles), block_cache_max(), (layout.dtype, bands, window), guard, values)?;
    Ok(())
}

/// [`write_values`] from the file's own tiles when it has them ([`RawTiles`], kept in the
/// process's tile store within `limit` bytes), else (or for a tile they leave to GDAL) through
/// GDAL; Ok(true) when GDAL read it. The window's values are charged to `guard` once, and again
/// if GDAL must read them after all.
pub fn write_values_from(
    (dataset, tiles): (&Dataset, Option<&mut RawTiles>),
    limit: usize,
    (dtype, bands, window): (GdalDataType, &[usize], Window),
    guard: &mut dyn ReadGuard,
    values: &mut [MaybeUninit<u8>],
) -> Result<bool> {
    if let Some(tiles) = tiles.filter(|tiles| tiles.dtype() == dtype) {
        guard.before_read(window.pixels() * bands.len())?;
        if tiles.write_window(dataset, limit, bands, window, guard, values)? {
            return Ok(false);
        }
    }
    write_values(dataset, dtype, bands, window, guard, values)?;
    Ok(true)
}

/// Reads `bands` (1-based) of `window` as `dtype` into `out`, band after band, row-major: the
/// values of a `.npy` array (C, H, W). `out` holds exactly those values and is aligned for `dtype`.
pub fn write_values(
    dataset: &Dataset,
    dtype: GdalDataType,
    bands: &[usize],
    window: Window,
    guard: &mut dyn ReadGuard,
    values: &mut [MaybeUninit<u8>],
) -> Result<()> {
    match dtype {
        GdalDataType::UInt8 => read_typed::<u8>(dataset, bands, window, guard, values),
        GdalDataType::UInt16 => read_typed::<u16>(dataset, bands, window, guard, values),
        GdalDataType::Int16 => read_typed::<i16>(dataset, bands, window, guard, values),
        GdalDataType::UInt32 => read_typed::<u32>(dataset, bands, window, guard, values),
        GdalDataType::Int32 => read_typed::<i32>(dataset, bands, window, guard, values),
        GdalDataType::Float32 => read_typed::<f32>(dataset, bands, window, guard, values),
        _ => read_typed::<f64>(dataset, bands, window, guard, values),
    }
}

// The .npy descriptors above say little-endian ('<'): the bytes are copied as they are in memory.
#[cfg(target_endian = "big")]
compile_error!("sen12lite's .npy output assumes a little-endian machine");

/// Dataset-level reads of all `bands` (band after band) straight into `out`, a piece of the
/// block grid at a time (`pieces`). A dataset-level read lets GDAL decode each pixel-interleaved
/// tile once for all bands; writing in place saves a copy of the window, and leaving the buffer
/// unfilled until GDAL writes it saves zeroing it first.
fn read_typed<T: GdalType + Copy + Default>(
    dataset: &Dataset,
    bands: &[usize],
    window: Window,
    guard: &mut dyn ReadGuard,
    out: &mut [MaybeUninit<u8>],
) -> Result<()> {
    let size = std::mem::size_of::<T>();
    if out.len() != window.pixels() * bands.len() * size {
        return Err(RasterError::Internal("a .npy buffer of the wrong size".into()));
    }
    let data = out.as_mut_ptr().cast::<u8>();
    // The header is a multiple of 64 bytes and allocators align to 8 or 16: the values are aligned.
    if data.align_offset(std::mem::align_of::<T>()) != 0 {
        return Err(RasterError::Internal("unaligned .npy buffer".into()));
    }
    let block = dataset.rasterband(1).map_err(|e| RasterError::no_band(1, e))?.block_size();
    for piece in pieces(window, block, dataset.raster_count(), guard.piece_values()) {
        guard.before_read(piece.pixels() * bands.len())?;
        let offset = ((piece.row - window.row) * window.width + (piece.col - window.col)) * size;
        // SAFETY: `out` holds width * height values of T per band, aligned for T. From
        // `data + offset`, band k of the piece goes k * width * height values further, its rows
        // width values apart: every byte written lies inside `out`.
        let to = Destination {
            // SAFETY: `offset` is the piece's first value inside `out` (see above).
            data: unsafe { data.add(offset) },
            pixel: size,
            line: window.width * size,
            band: window.pixels() * size,
        };
        // SAFETY: as above.
        unsafe { read_piece(dataset, bands, piece, T::gdal_ordinal(), to) }
            .map_err(|reason| RasterError::Read { what: format!("bands {bands:?}"), reason })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_header_is_padded_to_64_bytes_and_readable() {
        let header = super::npy_header("<u2", &[13, 256, 256]);
        assert_eq!(header.len() % 64, 0);
        assert!(header.starts_with(b"\x93NUMPY\x01\x00"));
        let text = String::from_utf8_lossy(&header[10..]);
        assert!(text.starts_with("{'descr': '<u2', 'fortran_order': False, 'shape': (13, 256, 256), }"));
        assert!(text.ends_with('\n'));
        assert!(String::from_utf8_lossy(&super::npy_header("<f4", &[5])).contains("'shape': (5,)"));
    }
}
