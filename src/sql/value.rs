//! `s12_value(scene, modality, band, lon, lat)` -> the value of the pixel containing a WGS84 point,
//! NULL outside the raster or at nodata.

use super::resolve::resolve;
use super::session::Session;
use super::utils::{self, band_spec, fail, read_value};
use crate::raster::open::lonlat_srs;
use gdal::spatial_ref::CoordTransform;
use gdal::GeoTransformEx;
use rusqlite::functions::Context;
use rusqlite::types::Value;
use rusqlite::Result;

pub(super) fn value(ctx: &Context, session: &Session) -> Result<Value> {
    const F: &str = "s12_value";
    let (Some(scene), Some(modality), Some(band), Some(lon), Some(lat)) = (
        utils::scene(F, ctx, 0)?,
        utils::text(F, ctx, 1, "modality")?,
        band_spec(F, ctx, 2)?,
        utils::real(F, ctx, 3, "lon")?,
        utils::real(F, ctx, 4, "lat")?,
    ) else {
        return Ok(Value::Null);
    };
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(fail(F, format!("({lon}, {lat}) is not a WGS84 lon/lat position")));
    }
    let conn = utils::connection(ctx)?;
    let target = resolve(&conn, F, &scene, &modality)?;
    let band = target.band(F, &band)?;
    let limit = session.limits.window_values;
    session.call(F, &conn).with_dataset(&target, |dataset, guard| match pixel_of(dataset, lon, lat)? {
        Some(position) => read_value(dataset, band, position, limit, guard),
        None => Ok(Value::Null),
    })
}

/// Column and row of the pixel containing (lon, lat), reprojected to the raster's CRS; None outside.
fn pixel_of(dataset: &gdal::Dataset, lon: f64, lat: f64) -> Result<Option<[i64; 2]>, String> {
    let lonlat = lonlat_srs()?;
    let raster_crs = dataset.spatial_ref().map_err(|e| format!("the raster has no CRS: {e}"))?;
    let transform = CoordTransform::new(&lonlat, &raster_crs).map_err(|e| e.to_string())?;
    let (mut x, mut y, mut z) = ([lon], [lat], [0.0]);
    transform.transform_coords(&mut x, &mut y, &mut z).map_err(|e| format!("cannot reproject ({lon}, {lat}): {e}"))?;
    let to_pixels = dataset
        .geo_transform()
        .map_err(|e| format!("the raster has no geotransform: {e}"))?
        .invert()
        .map_err(|e| format!("the raster's geotransform cannot be inverted: {e}"))?;
    let (col, row) = to_pixels.apply(x[0], y[0]);
    let (col, row) = (col.floor(), row.floor());
    let (w, h) = dataset.raster_size();
    let inside = col >= 0.0 && row >= 0.0 && col < w as f64 && row < h as f64;
    Ok(inside.then_some([col as i64, row as i64]))
}
