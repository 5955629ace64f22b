//! One pixel: its value in a band, and the pixel under a longitude and latitude.

use super::error::{RasterError, Result};
use super::open::{gdal_message, georeference, lonlat_srs};
use super::stats::is_nodata;
use super::strips::ReadGuard;
use gdal::spatial_ref::CoordTransform;
use gdal::GeoTransformEx;

/// One pixel of a band (1-based) as f64; None at nodata (the band's tag, or NaN). The pixel must
/// be inside the raster.
pub fn pixel_value(
    dataset: &gdal::Dataset,
    band: usize,
    [col, row]: [i64; 2],
    guard: &mut dyn ReadGuard,
) -> Result<Option<f64>> {
    let raster = dataset.rasterband(band).map_err(|e| RasterError::no_band(band, e))?;
    let mut value = [0f64];
    guard.before_read(1)?;
    raster
        .read_into_slice((col as isize, row as isize), (1, 1), (1, 1), &mut value, None)
        .map_err(|e| RasterError::Read { what: format!("band {band}"), reason: gdal_message(&e) })?;
    Ok((!is_nodata(value[0], raster.no_data_value())).then_some(value[0]))
}

/// Column and row of the pixel containing (lon, lat), reprojected to the raster's CRS; None outside.
pub fn pixel_of(dataset: &gdal::Dataset, lon: f64, lat: f64) -> Result<Option<[i64; 2]>> {
    let lonlat = lonlat_srs()?;
    let raster_crs = dataset.spatial_ref().map_err(|e| georeference("the raster has no CRS", e))?;
    let transform = CoordTransform::new(&lonlat, &raster_crs).map_err(|e| georeference("cannot reproject", e))?;
    let (mut x, mut y, mut z) = ([lon], [lat], [0.0]);
    transform
        .transform_coords(&mut x, &mut y, &mut z)
        .map_err(|e| georeference(&format!("cannot reproject ({lon}, {lat})"), e))?;
    let to_pixels = dataset
        .geo_transform()
        .map_err(|e| georeference("the raster has no geotransform", e))?
        .invert()
        .map_err(|e| georeference("the raster's geotransform cannot be inverted", e))?;
    let (col, row) = to_pixels.apply(x[0], y[0]);
    let (col, row) = (col.floor(), row.floor());
    let (w, h) = dataset.raster_size();
    let inside = col >= 0.0 && row >= 0.0 && col < w as f64 && row < h as f64;
    Ok(inside.then_some([col as i64, row as i64]))
}
