//! Windows as `.npy` (format 1.0): `numpy.load(io.BytesIO(blob))` gives a (bands, rows, cols) array.

use super::strips::Window;
use gdal::raster::GdalType;
use gdal::Dataset;
use std::ffi::{c_int, c_void};

/// numpy's type string for a GDAL type name.
pub fn numpy_descr(dtype: &str) -> Option<&'static str> {
    Some(match dtype {
        "Byte" | "UInt8" => "|u1",
        "UInt16" => "<u2",
        "Int16" => "<i2",
        "UInt32" => "<u4",
        "Int32" => "<i4",
        "Float32" => "<f4",
        "Float64" => "<f8",
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

/// Reads `bands` (1-based) of `window` in the file's own type and encodes them as `.npy`.
pub fn read_npy(dataset: &Dataset, dtype: &str, bands: &[usize], window: Window) -> Result<Vec<u8>, String> {
    let mut out = npy_header(numpy_descr(dtype).ok_or_else(|| format!("data type {dtype} has no numpy equivalent here"))?, &[bands.len(), window.height, window.width]);
    match dtype {
        "Byte" | "UInt8" => append_typed::<u8>(dataset, bands, window, &mut out),
        "UInt16" => append_typed::<u16>(dataset, bands, window, &mut out),
        "Int16" => append_typed::<i16>(dataset, bands, window, &mut out),
        "UInt32" => append_typed::<u32>(dataset, bands, window, &mut out),
        "Int32" => append_typed::<i32>(dataset, bands, window, &mut out),
        "Float32" => append_typed::<f32>(dataset, bands, window, &mut out),
        _ => append_typed::<f64>(dataset, bands, window, &mut out),
    }?;
    Ok(out)
}

// The .npy descriptors above say little-endian ('<'): the bytes are copied as they are in memory.
#[cfg(target_endian = "big")]
compile_error!("sen12lite's .npy output assumes a little-endian machine");

/// One dataset-level read of all `bands` (band after band) straight into the end of `out`.
/// A single read lets GDAL decode each pixel-interleaved tile once for all bands; writing in
/// place saves a copy of the window.
fn append_typed<T: GdalType + Copy + Default>(dataset: &Dataset, bands: &[usize], window: Window, out: &mut Vec<u8>) -> Result<(), String> {
    let start = out.len();
    let length = window.pixels() * bands.len() * std::mem::size_of::<T>();
    out.resize(start + length, 0);
    let mut band_map: Vec<c_int> = bands.iter().map(|&b| b as c_int).collect();
    let (col, row, width, height) = (window.col as c_int, window.row as c_int, window.width as c_int, window.height as c_int);
    // The header is a multiple of 64 bytes and the allocator aligns to 16: the values are aligned.
    if out[start..].as_ptr().align_offset(std::mem::align_of::<T>()) != 0 {
        out.truncate(start);
        return Err("internal error: unaligned .npy buffer".into());
    }
    // SAFETY: `out[start..]` holds width * height values of T for each band of `band_map`,
    // aligned for T, the layout GDAL writes with zero pixel/line/band spacing; the dataset is open.
    let status = unsafe {
        gdal_sys::GDALDatasetRasterIO(
            dataset.c_dataset(),
            gdal_sys::GDALRWFlag::GF_Read,
            col,
            row,
            width,
            height,
            out[start..].as_mut_ptr().cast::<c_void>(),
            width,
            height,
            T::gdal_ordinal(),
            band_map.len() as c_int,
            band_map.as_mut_ptr(),
            0,
            0,
            0,
        )
    };
    if status != gdal_sys::CPLErr::CE_None {
        out.truncate(start);
        return Err(format!("read error in bands {bands:?}: {}", last_gdal_error()));
    }
    Ok(())
}

fn last_gdal_error() -> String {
    // SAFETY: CPLGetLastErrorMsg returns a NUL-terminated string owned by GDAL (never NULL).
    unsafe { std::ffi::CStr::from_ptr(gdal_sys::CPLGetLastErrorMsg()) }.to_string_lossy().into_owned()
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
