//! `s12_zonal(scene, modality, band_or_index, geometry)` -> JSON {count, min, max, mean, stddev}:
//! statistics of the pixels whose centres fall inside a lon/lat polygon (GeoJSON or WKT, Polygon
//! or MultiPolygon, holes allowed), reprojected to the raster's CRS. A band follows `s12_stats`
//! (nodata left out); an index follows `s12_index_mean` (its inputs have data, no cloud).

use crate::catalog::{cloud_threshold, read};
use crate::geometry::parse::{kind, parse_geometry};
use crate::geometry::wkb::footprint_polygon;
use crate::raster::open::{georeference, lonlat_srs};
use crate::raster::optical::nodata_tags;
use crate::raster::stats::{is_nodata, BandAccumulator, BandStats};
use crate::raster::strips::{for_each_strip, ReadGuard, Window};
use crate::raster::RasterError;
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::{band_spec, fail};
use crate::sql::runtime::measures::{measure_of, Bands, Inputs};
use crate::sql::runtime::resolve;
use crate::sql::runtime::session::Session;
use crate::sql::runtime::values::stats_json;
use crate::sql::runtime::windows;
use gdal::raster::GdalDataType;
use gdal::spatial_ref::CoordTransform;
use gdal::{Dataset, GeoTransformEx};
use geo::{Coord, Geometry, Intersects, MapCoords, MultiPolygon};
use rusqlite::functions::Context;
use rusqlite::Result;

const F: &str = "s12_zonal";

pub(crate) fn zonal(ctx: &Context, session: &Session) -> Result<Option<String>> {
    let (Some(scene), Some(modality), Some(band), Some(text)) = (
        arguments::scene(F, ctx, 0)?,
        arguments::text(F, ctx, 1, "modality")?,
        band_spec(F, ctx, 2)?,
        arguments::text(F, ctx, 3, "geometry")?,
    ) else {
        return Ok(None);
    };
    let zone = polygons(&text)?;
    let measure = measure_of(F, &modality, &band)?;
    let conn = arguments::connection(ctx)?;
    let row = resolve::scene(&conn, F, &scene)?;
    let target = resolve::file_of(&conn, F, &row, &modality)?;
    let bands = Bands::of(F, &target, &measure)?;
    let footprint = read::footprint(&conn, row.scene_id)?;
    if let Some(footprint) = footprint.as_deref().and_then(|f| footprint_polygon(f).ok()) {
        if !zone.intersects(&footprint) {
            if swapped(&zone).intersects(&footprint) {
                return Err(fail(F, "the polygon misses the scene but would cover it as (lat, lon): write lon first"));
            }
            return Ok(Some(no_pixels()));
        }
    }
    let threshold = cloud_threshold(&conn);
    let limit = session.limits.window_values;
    let result = session.call(F, &conn).with_dataset(&target, |dataset, guard| {
        let rings = rings_in_pixels(dataset, &zone)?;
        let Some(window) = bounding_window(&rings, dataset.raster_size()) else {
            return Ok(no_pixels());
        };
        let read = read_bands(&bands);
        windows::checked_window(
            [window.col as i64, window.row as i64, window.width as i64, window.height as i64],
            dataset.raster_size(),
            read.len(),
            limit,
        )?;
        let spans = spans(&rings, window);
        let stats = zone_stats(dataset, &bands, &read, window, &spans, threshold, guard)?;
        Ok(stats_json(&stats))
    });
    result.map(Some)
}

/// The answer for a zone that holds no pixel of the raster: count 0, the rest NULL.
fn no_pixels() -> String {
    stats_json(&BandAccumulator::new(GdalDataType::Float64, None).finish())
}

/// The zone as polygons: a Polygon or MultiPolygon, in lon/lat.
fn polygons(text: &str) -> Result<MultiPolygon<f64>> {
    match parse_geometry(text).map_err(|e| fail(F, e))? {
        Geometry::Polygon(polygon) => Ok(MultiPolygon(vec![polygon])),
        Geometry::MultiPolygon(polygons) => Ok(polygons),
        other => Err(fail(F, format!("the zone must be a Polygon or MultiPolygon, got a {}", kind(&other)))),
    }
}

/// The zone with each coordinate's two numbers exchanged: a polygon written (lat, lon).
fn swapped(zone: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    zone.map_coords(|Coord { x, y }| Coord { x: y, y: x })
}

/// Every ring of every polygon (exteriors and holes) in the raster's pixel coordinates: filling
/// between alternate crossings of a row (even-odd) then gives the holes and the separate parts.
fn rings_in_pixels(dataset: &Dataset, zone: &MultiPolygon<f64>) -> Result<Vec<Vec<(f64, f64)>>, RasterError> {
    let raster_crs = dataset.spatial_ref().map_err(|e| georeference("the raster has no CRS", e))?;
    let transform =
        CoordTransform::new(&lonlat_srs()?, &raster_crs).map_err(|e| georeference("cannot reproject", e))?;
    let to_pixels = dataset
        .geo_transform()
        .map_err(|e| georeference("the raster has no geotransform", e))?
        .invert()
        .map_err(|e| georeference("the raster's geotransform cannot be inverted", e))?;
    let mut rings = Vec::new();
    for polygon in zone {
        for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
            let (mut xs, mut ys): (Vec<f64>, Vec<f64>) = ring.coords().map(|c| (c.x, c.y)).unzip();
            let mut zs = vec![0.0; xs.len()];
            transform
                .transform_coords(&mut xs, &mut ys, &mut zs)
                .map_err(|e| georeference("cannot reproject the zone", e))?;
            rings.push(xs.into_iter().zip(ys).map(|(x, y)| to_pixels.apply(x, y)).collect());
        }
    }
    Ok(rings)
}

/// The pixels the rings' box covers, clipped to the raster; None when it misses it.
fn bounding_window(rings: &[Vec<(f64, f64)>], (width, height): (usize, usize)) -> Option<Window> {
    let points = || rings.iter().flatten();
    let min = |f: fn(&(f64, f64)) -> f64| points().map(f).fold(f64::INFINITY, f64::min);
    let max = |f: fn(&(f64, f64)) -> f64| points().map(f).fold(f64::NEG_INFINITY, f64::max);
    let col = min(|p| p.0).floor().max(0.0);
    let row = min(|p| p.1).floor().max(0.0);
    let end_col = max(|p| p.0).ceil().min(width as f64);
    let end_row = max(|p| p.1).ceil().min(height as f64);
    let window = Window {
        col: col as usize,
        row: row as usize,
        width: (end_col - col) as usize,
        height: (end_row - row) as usize,
    };
    (end_col > col && end_row > row).then_some(window)
}

/// Per row of the window, the column ranges (window-relative, end exclusive) whose pixel centres
/// are inside the rings (even-odd rule along the row through the centres).
fn spans(rings: &[Vec<(f64, f64)>], window: Window) -> Vec<Vec<(usize, usize)>> {
    (0..window.height)
        .map(|r| {
            let y = (window.row + r) as f64 + 0.5;
            let mut crossings: Vec<f64> = rings
                .iter()
                .flat_map(|ring| ring.windows(2))
                .filter(|edge| (edge[0].1 <= y) != (edge[1].1 <= y))
                .map(|edge| edge[0].0 + (y - edge[0].1) * (edge[1].0 - edge[0].0) / (edge[1].1 - edge[0].1))
                .collect();
            crossings.sort_by(f64::total_cmp);
            // Centre x + 0.5 inside [a, b): the columns ceil(a - 0.5) .. ceil(b - 0.5).
            let column = |x: f64| ((x - 0.5).ceil() - window.col as f64).clamp(0.0, window.width as f64) as usize;
            crossings.chunks_exact(2).map(|pair| (column(pair[0]), column(pair[1]))).filter(|(a, b)| a < b).collect()
        })
        .collect()
}

/// The bands to read: the band or the index's inputs, then the cloud band when it applies.
fn read_bands(bands: &Bands) -> Vec<usize> {
    let mut read = match &bands.inputs {
        Inputs::Band(band) => vec![*band],
        Inputs::Index(_, inputs) => inputs.clone(),
    };
    if let (Inputs::Index(..), Some(cloud)) = (&bands.inputs, bands.cloud) {
        read.push(cloud);
    }
    read
}

/// The statistics of the zone's pixels: a band's values without nodata, or an index where its
/// inputs have data and the pixel is not under cloud.
fn zone_stats(
    dataset: &Dataset,
    bands: &Bands,
    read: &[usize],
    window: Window,
    spans: &[Vec<(usize, usize)>],
    threshold: f64,
    guard: &mut dyn ReadGuard,
) -> Result<BandStats, RasterError> {
    let tags = nodata_tags(dataset, read)?;
    let mut accumulator = match &bands.inputs {
        Inputs::Band(band) => {
            let raster = dataset.rasterband(*band).map_err(|e| RasterError::no_band(*band, e))?;
            BandAccumulator::new(raster.band_type(), raster.no_data_value())
        }
        Inputs::Index(..) => BandAccumulator::new(GdalDataType::Float64, None),
    };
    let mut inside = Vec::new();
    let mut inputs = vec![0f64; read.len()];
    let mut offset = 0;
    for_each_strip(dataset, read, window, guard, |strips, pixels| {
        inside.clear();
        for_each_inside(spans, window.width, offset, pixels, |i| match &bands.inputs {
            Inputs::Band(_) => inside.push(strips[0][i]),
            Inputs::Index(def, index_bands) => {
                for (slot, input) in inputs.iter_mut().enumerate() {
                    *input = strips[slot][i];
                }
                let valid = inputs[..index_bands.len()].iter().zip(&tags).all(|(v, tag)| !is_nodata(*v, *tag));
                let cloudy = bands.cloud.is_some()
                    && !is_nodata(inputs[index_bands.len()], tags[index_bands.len()])
                    && inputs[index_bands.len()] > threshold;
                let value = (def.compute)(&inputs[..index_bands.len()]);
                if valid && !cloudy && value.is_finite() {
                    inside.push(value);
                }
            }
        });
        accumulator.push(&inside);
        offset += pixels;
    })?;
    Ok(accumulator.finish())
}

/// Calls `each(i)` for the pixels `i` of a strip (window pixels offset..offset + pixels, row-major)
/// whose centres are inside the zone.
fn for_each_inside(
    spans: &[Vec<(usize, usize)>],
    width: usize,
    offset: usize,
    pixels: usize,
    mut each: impl FnMut(usize),
) {
    let (first_row, last_row) = (offset / width, (offset + pixels).div_ceil(width));
    for (row, row_spans) in spans.iter().enumerate().take(last_row).skip(first_row) {
        for &(start, end) in row_spans {
            for i in (row * width + start)..(row * width + end) {
                if (offset..offset + pixels).contains(&i) {
                    each(i - offset);
                }
            }
        }
    }
}
