//! s12_window, s12_pixel and s12_stats through `sen12lite::register`, against GDAL's own reads of
//! the same files (the Python suite's test_sql_pixels.py holds the same functions to rasterio).

mod common;
use common::{connection, gdal_file, gdal_window, SCENE};

/// The values of an `.npy` blob of little-endian u16 (`s12_window` of S2 bands).
fn npy_u16(blob: &[u8]) -> Vec<f64> {
    let header = 10 + u16::from_le_bytes([blob[8], blob[9]]) as usize;
    blob[header..].chunks_exact(2).map(|b| f64::from(u16::from_le_bytes([b[0], b[1]]))).collect()
}

#[test]
fn a_window_holds_gdals_values_band_after_band() {
    let conn = connection();
    let blob: Vec<u8> =
        conn.query_row("SELECT s12_window(?1, 's2', 'B4,B8', 5, 7, 32, 16)", [SCENE], |r| r.get(0)).unwrap();
    let file = gdal_file(&conn, SCENE, "s2");
    let expected = [gdal_window(&file, 4, [5, 7, 32, 16]), gdal_window(&file, 8, [5, 7, 32, 16])].concat();
    let header = std::str::from_utf8(&blob[10..10 + u16::from_le_bytes([blob[8], blob[9]]) as usize]).unwrap();
    assert!(header.contains("'descr': '<u2'") && header.contains("'shape': (2, 16, 32)"), "{header}");
    assert_eq!(npy_u16(&blob), expected);
}

#[test]
fn a_pixel_is_gdals_and_nodata_is_null() {
    let conn = connection();
    let file = gdal_file(&conn, SCENE, "s2");
    for (col, row) in [(0, 0), (100, 120), (239, 239)] {
        let got: Option<i64> = conn
            .query_row("SELECT s12_pixel(?1, 's2', 'B4', ?2, ?3)", (SCENE, col as i64, row as i64), |r| r.get(0))
            .unwrap();
        let value = gdal_window(&file, 4, [col, row, 1, 1])[0];
        assert_eq!(got, (value != 0.0).then_some(value as i64), "pixel ({col}, {row})");
    }
}

#[test]
fn stats_of_a_window_are_the_hand_computed_ones() {
    let conn = connection();
    let json: String =
        conn.query_row("SELECT s12_stats(?1, 's2', 'B8', 10, 20, 64, 48)", [SCENE], |r| r.get(0)).unwrap();
    let stats: serde_json::Value = serde_json::from_str(&json).unwrap();
    let values: Vec<f64> =
        gdal_window(&gdal_file(&conn, SCENE, "s2"), 8, [10, 20, 64, 48]).into_iter().filter(|v| *v != 0.0).collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    assert_eq!(stats["count"], values.len());
    assert_eq!(stats["min"].as_f64().unwrap(), values.iter().copied().fold(f64::INFINITY, f64::min));
    assert_eq!(stats["max"].as_f64().unwrap(), values.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    assert!((stats["mean"].as_f64().unwrap() - mean).abs() < 1e-9 * mean);
}
