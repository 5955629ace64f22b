//! Windows as `.npy` (format 1.0): `numpy.load(io.BytesIO(blob))` gives a (bands, rows, cols) array.

use super::strips::{pieces, read_piece, Destination, ReadGuard, Window};
use gdal::raster::{GdalDataType, GdalType};
use gdal::Dataset;

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
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
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

/// Reads `bands` (1-based) of `window` in the file's own type and encodes them as `.npy`;
/// `guard` is asked before each chunk of rows.
pub fn read_npy(
    dataset: &Dataset,
    dtype: GdalDataType,
    bands: &[usize],
    window: Window,
    guard: &mut dyn ReadGuard,
) -> Result<Vec<u8>, String> {
    let mut out = npy_header(
        numpy_descr(dtype).ok_or_else(|| format!("data type {dtype} has no numpy equivalent here"))?,
        &[bands.len(), window.height, window.width],
    );
    match dtype {
        GdalDataType::UInt8 => append_typed::<u8>(dataset, bands, window, guard, &mut out),
        GdalDataType::UInt16 => append_typed::<u16>(dataset, bands, window, guard, &mut out),
        GdalDataType::Int16 => append_typed::<i16>(dataset, bands, window, guard, &mut out),
        GdalDataType::UInt32 => append_typed::<u32>(dataset, bands, window, guard, &mut out),
        GdalDataType::Int32 => append_typed::<i32>(dataset, bands, window, guard, &mut out),
        GdalDataType::Float32 => append_typed::<f32>(dataset, bands, window, guard, &mut out),
        _ => append_typed::<f64>(dataset, bands, window, guard, &mut out),
    }?;
    Ok(out)
}

// The .npy descriptors above say little-endian ('<'): the bytes are copied as they are in memory.
#[cfg(target_endian = "big")]
compile_error!("sen12lite's .npy output assumes a little-endian machine");

/// Dataset-level reads of all `bands` (band after band) straight into the end of `out`, a piece
/// of the block grid at a time (`pieces`). A dataset-level read lets GDAL decode each
/// pixel-interleaved tile once for all bands; writing in place saves a copy of the window, and
/// leaving the buffer unfilled until GDAL writes it saves zeroing it first.
fn append_typed<T: GdalType + Copy + Default>(
    dataset: &Dataset,
    bands: &[usize],
    window: Window,
    guard: &mut dyn ReadGuard,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let start = out.len();
    let size = std::mem::size_of::<T>();
    let length = window.pixels() * bands.len() * size;
    out.reserve_exact(length);
    let data = out.spare_capacity_mut().as_mut_ptr().cast::<u8>();
    // The header is a multiple of 64 bytes and the allocator aligns to 16: the values are aligned.
    if data.align_offset(std::mem::align_of::<T>()) != 0 {
        return Err("internal error: unaligned .npy buffer".into());
    }
    let block = dataset.rasterband(1).map_err(|e| e.to_string())?.block_size();
    for piece in pieces(window, block, dataset.raster_count(), guard.piece_values()) {
        guard.before_read(piece.pixels() * bands.len())?;
        let offset = ((piece.row - window.row) * window.width + (piece.col - window.col)) * size;
        // SAFETY: `data` has room for width * height values of T per band, aligned for T. From
        // `data + offset`, band k of the piece goes k * width * height values further, its rows
        // width values apart: every byte written lies inside the reserved capacity.
        let to = Destination {
            data: unsafe { data.add(offset) },
            pixel: size,
            line: window.width * size,
            band: window.pixels() * size,
        };
        // SAFETY: as above.
        unsafe { read_piece(dataset, bands, piece, T::gdal_ordinal(), to) }
            .map_err(|e| format!("read error in bands {bands:?}: {e}"))?;
    }
    // SAFETY: the pieces cover the window, so GDAL has written all `length` bytes.
    unsafe { out.set_len(start + length) };
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
