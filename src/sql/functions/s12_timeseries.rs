//! `s12_timeseries(lon, lat, modality, band_or_index)` -> `scene_id, s1_time, s2_time, value`: the
//! value of one WGS84 point in every scene on disk whose footprint covers it, in time order — the
//! dates of a region side by side. The R*Tree finds the candidates, the footprint decides. NULL
//! for nodata, and for optical values under cloud (the catalog's cloud rule at that pixel).

use crate::catalog::cloud_threshold;
use crate::catalog::read::{self, SceneAt, SceneRef};
use crate::geometry::wkb::footprint_polygon;
use crate::raster::indices::IndexDef;
use crate::raster::pixel::{pixel_of, pixel_value};
use crate::raster::strips::ReadGuard;
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::fail;
use crate::sql::runtime::error::CallResult;
use crate::sql::runtime::measures::{measure_of, Bands, Inputs};
use crate::sql::runtime::resolve;
use crate::sql::runtime::session::Session;
use crate::sql::runtime::table::TableFunction;
use crate::sql::runtime::values::read_value;
use geo::{Intersects, Point};
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

const F: &str = "s12_timeseries";

pub(crate) struct TimeSeries {
    /// (scene_id, s1_time, s2_time, value), in time order.
    rows: Vec<(i64, Option<String>, Option<String>, Value)>,
}

impl TableFunction for TimeSeries {
    const NAME: &'static str = F;
    const COLUMNS: &'static [&'static str] = &["scene_id", "s1_time", "s2_time", "value"];
    const ARGUMENTS: &'static [&'static str] = &["lon", "lat", "modality", "band"];
    const REQUIRED: usize = 4;

    fn rows(conn: &Connection, session: &Session, arguments: &[Value]) -> Result<Option<Self>> {
        let (Some(lon), Some(lat), Some(modality), Some(band)) = (
            arguments::real(F, arguments, 0, "lon")?,
            arguments::real(F, arguments, 1, "lat")?,
            arguments::text(F, arguments, 2, "modality")?,
            arguments::text(F, arguments, 3, "band")?,
        ) else {
            return Ok(None);
        };
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(fail(F, format!("({lon}, {lat}) is not a WGS84 lon/lat position")));
        }
        let measure = measure_of(F, &modality, &band)?;
        let threshold = cloud_threshold(conn);
        let limit = session.limits.window_values;
        let mut rows = Vec::new();
        for scene in read::scenes_at(conn, lon, lat)? {
            if !covers(&scene, lon, lat) {
                continue;
            }
            let Some(row) = read::scene(conn, &SceneRef::Id(scene.scene_id))? else { continue };
            let Some(target) = resolve::optional_file_of(conn, F, &row, &modality)? else { continue };
            let bands = Bands::of(F, &target, &measure)?;
            let value = session.call(F, conn).with_dataset(&target, |dataset, guard| {
                let Some(pixel) = pixel_of(dataset, lon, lat)? else { return Ok(Value::Null) };
                let cloud = match bands.cloud {
                    Some(cloud) => pixel_value(dataset, cloud, pixel, guard)?,
                    None => None,
                };
                if cloud.is_some_and(|probability| probability > threshold) {
                    return Ok(Value::Null);
                }
                match &bands.inputs {
                    Inputs::Band(band) => read_value(dataset, *band, pixel, limit, guard),
                    Inputs::Index(def, inputs) => index_at(dataset, def, inputs, pixel, guard),
                }
            })?;
            rows.push((scene.scene_id, scene.s1_time, scene.s2_time, value));
        }
        // By the time of the modality's own acquisition (S1's for s1, else S2's), undated last.
        let s1 = modality == "s1";
        rows.sort_by(|a, b| {
            let time = |r: &(i64, Option<String>, Option<String>, Value)| if s1 { r.1.clone() } else { r.2.clone() };
            (time(a).is_none(), time(a), a.0).cmp(&(time(b).is_none(), time(b), b.0))
        });
        Ok(Some(TimeSeries { rows }))
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn value(&self, row: usize, column: usize) -> Value {
        let (scene_id, s1, s2, value) = &self.rows[row];
        let time = |t: &Option<String>| t.clone().map_or(Value::Null, Value::Text);
        match column {
            0 => Value::Integer(*scene_id),
            1 => time(s1),
            2 => time(s2),
            _ => value.clone(),
        }
    }
}

/// Whether the scene's footprint holds the point (the R*Tree box only suggests it).
fn covers(scene: &SceneAt, lon: f64, lat: f64) -> bool {
    footprint_polygon(&scene.footprint).is_ok_and(|polygon| polygon.intersects(&Point::new(lon, lat)))
}

/// The index at one pixel: NULL where an input has no data or the formula none (a zero denominator).
fn index_at(
    dataset: &gdal::Dataset,
    def: &IndexDef,
    bands: &[usize],
    pixel: [i64; 2],
    guard: &mut dyn ReadGuard,
) -> CallResult<Value> {
    let mut inputs = Vec::with_capacity(bands.len());
    for &band in bands {
        match pixel_value(dataset, band, pixel, guard)? {
            Some(v) => inputs.push(v),
            None => return Ok(Value::Null),
        }
    }
    let value = (def.compute)(&inputs);
    Ok(if value.is_finite() { Value::Real(value) } else { Value::Null })
}
