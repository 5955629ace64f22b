//! Writing the synthetic GeoTIFFs: UTM CRS, 10 m north-up geotransform, band descriptions, nodata.

use super::SynthError;
use crate::raster::open::{lonlat_srs, QuietGdal};
use gdal::raster::{Buffer, GdalType, RasterCreationOptions};
use gdal::spatial_ref::SpatialRef;
use gdal::{DriverManager, GeoTransform, Metadata};
use std::path::Path;

/// Where a raster sits: its CRS and upper-left corner, 10 m pixels.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub epsg: u32,
    pub left: f64,
    pub top: f64,
    pub size: usize,
}

impl Placement {
    pub fn geotransform(&self) -> GeoTransform {
        [self.left, 10.0, 0.0, self.top, 0.0, -10.0]
    }
}

pub struct Band<T> {
    pub name: &'static str,
    pub values: Vec<T>,
}

/// Tiled and DEFLATE-compressed like GDAL exports; `extra` adds creation options (PHOTOMETRIC ...).
pub fn write_geotiff<T: GdalType + Copy>(
    path: &Path,
    place: &Placement,
    bands: Vec<Band<T>>,
    nodata: Option<f64>,
    extra: &[&str],
) -> Result<(), SynthError> {
    let _quiet = QuietGdal::new();
    let fail =
        |what: &str, e: gdal::errors::GdalError| SynthError::Write(format!("cannot {what} {}: {e}", path.display()));
    let driver = DriverManager::get_driver_by_name("GTiff").map_err(|e| fail("find GTiff for", e))?;
    let options: RasterCreationOptions = ["COMPRESS=DEFLATE", "TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    let mut dataset = driver
        .create_with_band_type_with_options::<T, _>(path, place.size, place.size, bands.len(), &options)
        .map_err(|e| fail("create", e))?;
    dataset.set_geo_transform(&place.geotransform()).map_err(|e| fail("set the geotransform of", e))?;
    let srs = SpatialRef::from_epsg(place.epsg).map_err(|e| fail("make the CRS of", e))?;
    dataset.set_spatial_ref(&srs).map_err(|e| fail("set the CRS of", e))?;
    for (index, band) in bands.into_iter().enumerate() {
        let mut raster = dataset.rasterband(index + 1).map_err(|e| fail("get a band of", e))?;
        raster.set_description(band.name).map_err(|e| fail("name a band of", e))?;
        if nodata.is_some() {
            raster.set_no_data_value(nodata).map_err(|e| fail("set nodata of", e))?;
        }
        let mut buffer = Buffer::new((place.size, place.size), band.values);
        raster.write((0, 0), (place.size, place.size), &mut buffer).map_err(|e| fail("write", e))?;
    }
    dataset.close().map_err(|e| fail("close", e))
}

/// The WGS84 UTM zone (EPSG 326zz / 327zz) of a point.
pub fn utm_epsg_of(lon: f64, lat: f64) -> u32 {
    let zone = (((lon + 180.0) / 6.0).floor() as i64).clamp(0, 59) as u32 + 1;
    if lat >= 0.0 {
        32600 + zone
    } else {
        32700 + zone
    }
}

/// A `size`-pixel raster centred on (lon, lat) in the given UTM zone, snapped to the 10 m grid.
pub fn centred_placement(epsg: u32, lon: f64, lat: f64, size: usize) -> Result<Placement, SynthError> {
    let lonlat = lonlat_srs()?;
    let utm = SpatialRef::from_epsg(epsg).map_err(|e| SynthError::Options(format!("EPSG:{epsg}: {e}")))?;
    let transform = gdal::spatial_ref::CoordTransform::new(&lonlat, &utm)
        .map_err(|e| SynthError::Options(format!("EPSG:{epsg}: {e}")))?;
    let (mut x, mut y, mut z) = ([lon], [lat], [0.0]);
    transform
        .transform_coords(&mut x, &mut y, &mut z)
        .map_err(|e| SynthError::Write(format!("cannot project ({lon}, {lat}): {e}")))?;
    let half = size as f64 * 5.0;
    Ok(Placement {
        epsg,
        left: ((x[0] - half) / 10.0).round() * 10.0,
        top: ((y[0] + half) / 10.0).round() * 10.0,
        size,
    })
}
