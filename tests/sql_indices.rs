//! s12_index_mean through `sen12lite::register`, against NDVI computed here from GDAL's reads with
//! the authors' rule: valid where both bands have data and cloud_probability <= 40.

mod common;
use common::{connection, gdal_file, gdal_window, SCENE};

#[test]
fn the_mean_ndvi_of_a_window_is_the_hand_computed_one() {
    let conn = connection();
    let window = [0, 0, 120, 100];
    let got: f64 = conn.query_row("SELECT s12_index_mean(?1, 'ndvi', 0, 0, 120, 100)", [SCENE], |r| r.get(0)).unwrap();
    let file = gdal_file(&conn, SCENE, "s2");
    let cloud_band = file.raster_count();
    let (red, nir, cloud) =
        (gdal_window(&file, 4, window), gdal_window(&file, 8, window), gdal_window(&file, cloud_band, window));
    let ndvi: Vec<f64> = (0..red.len())
        .filter(|&i| red[i] != 0.0 && nir[i] != 0.0 && cloud[i] <= 40.0)
        .map(|i| (nir[i] - red[i]) / (nir[i] + red[i]))
        .collect();
    let expected = ndvi.iter().sum::<f64>() / ndvi.len() as f64;
    assert!(!ndvi.is_empty() && (got - expected).abs() < 1e-12, "{got} against {expected}");
}

#[test]
fn an_unknown_index_is_an_error_naming_the_function_and_the_index() {
    let error = connection().query_row("SELECT s12_index_mean(?1, 'ndmi')", [SCENE], |r| r.get::<_, f64>(0));
    let message = error.unwrap_err().to_string();
    assert!(message.contains("s12_index_mean: unknown index 'ndmi' (known: ndvi,"), "{message}");
}
