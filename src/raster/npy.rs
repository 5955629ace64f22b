//! Windows as `.npy` (format 1.0): `numpy.load(io.BytesIO(blob))` gives a (bands, rows, cols) array.

use super::strips::Window;
use gdal::raster::GdalType;
use gdal::Dataset;

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
    macro_rules! typed {
        ($t:ty) => {
            read_typed::<$t, _>(dataset, bands, window, |v: $t| v.to_le_bytes())
        };
    }
    let body = match dtype {
        "Byte" | "UInt8" => typed!(u8),
        "UInt16" => typed!(u16),
        "Int16" => typed!(i16),
        "UInt32" => typed!(u32),
        "Int32" => typed!(i32),
        "Float32" => typed!(f32),
        "Float64" => typed!(f64),
        other => return Err(format!("data type {other} has no numpy equivalent here")),
    }?;
    let mut out = npy_header(numpy_descr(dtype).unwrap_or("|u1"), &[bands.len(), window.height, window.width]);
    out.extend_from_slice(&body);
    Ok(out)
}

fn read_typed<T: GdalType + Copy + Default, const N: usize>(
    dataset: &Dataset,
    bands: &[usize],
    window: Window,
    bytes: impl Fn(T) -> [u8; N],
) -> Result<Vec<u8>, String> {
    let mut values = vec![T::default(); window.pixels()];
    let mut out = Vec::with_capacity(window.pixels() * bands.len() * N);
    for &number in bands {
        let band = dataset.rasterband(number).map_err(|e| format!("band {number}: {e}"))?;
        let (origin, size) = ((window.col as isize, window.row as isize), (window.width, window.height));
        band.read_into_slice(origin, size, size, &mut values, None).map_err(|e| format!("read error in band {number}: {e}"))?;
        out.extend(values.iter().flat_map(|v| bytes(*v)));
    }
    Ok(out)
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
