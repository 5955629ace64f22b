//! `s12_nearest(lon, lat, k)` -> `scene_id, distance_km`: the k scene footprints nearest to a
//! WGS84 point, nearest first (equal distances by scene_id), by great-circle distance on a
//! spherical Earth (0 inside). The catalog's R*Tree gives the scenes within a growing distance —
//! 25 km, then four times more until k are found — and each candidate's WKB footprint its exact
//! distance: nothing is built or kept, so the first call costs what the others do.

use crate::catalog::read;
use crate::geometry::sphere::{boxes_within, unit, Footprint, EARTH_RADIUS_KM};
use crate::geometry::wkb;
use crate::geometry::GeometryError;
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::fail;
use crate::sql::runtime::session::Session;
use crate::sql::runtime::table::TableFunction;
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

const F: &str = "s12_nearest";
pub const MAX_K: i64 = 100_000;
/// The first search distance; SEN12TP scenes are 20 km across.
const FIRST_KM: f64 = 25.0;

pub(crate) struct Nearest {
    rows: Vec<(i64, f64)>,
}

impl TableFunction for Nearest {
    const NAME: &'static str = F;
    const COLUMNS: &'static [&'static str] = &["scene_id", "distance_km"];
    const ARGUMENTS: &'static [&'static str] = &["lon", "lat", "k"];
    const REQUIRED: usize = 2;

    fn rows(conn: &Connection, _: &Session, arguments: &[Value]) -> Result<Option<Self>> {
        let (Some(lon), Some(lat)) =
            (arguments::real(F, arguments, 0, "lon")?, arguments::real(F, arguments, 1, "lat")?)
        else {
            return Ok(None);
        };
        let k = arguments::integer(F, arguments, 2, "k")?.unwrap_or(1);
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(fail(F, format!("({lon}, {lat}) is not a WGS84 lon/lat position")));
        }
        if !(1..=MAX_K).contains(&k) {
            return Err(fail(F, format!("k must be 1..{MAX_K}, got {k}")));
        }
        Ok(Some(Nearest { rows: nearest(conn, lon, lat, k as usize)? }))
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn value(&self, row: usize, column: usize) -> Value {
        let (scene_id, km) = self.rows[row];
        if column == 0 {
            Value::Integer(scene_id)
        } else {
            Value::Real(km)
        }
    }
}

/// The k nearest scenes: every scene within the search distance is found (its footprint has a
/// point in the distance's boxes, so its R*Tree box meets them), so once k are within it, they
/// are the k nearest. At half the Earth's circumference the search holds every scene.
fn nearest(conn: &Connection, lon: f64, lat: f64, k: usize) -> Result<Vec<(i64, f64)>> {
    let point = unit(lon, lat);
    let whole_earth = std::f64::consts::PI * EARTH_RADIUS_KM;
    let mut km = FIRST_KM;
    loop {
        let mut found: Vec<(f64, i64)> = Vec::new();
        for area in boxes_within(lon, lat, km.min(whole_earth)) {
            read::for_each_footprint_in_box(conn, area, |scene_id, geom| {
                let problem = |e: GeometryError| fail(F, format!("scene {scene_id}: geom: {e}"));
                let footprint = Footprint::new(&wkb::polygon_ring(geom).map_err(problem)?).map_err(problem)?;
                let distance = footprint.angle_to(point) * EARTH_RADIUS_KM;
                if distance <= km {
                    found.push((distance, scene_id));
                }
                Ok(())
            })?;
        }
        found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        found.dedup_by_key(|(_, scene_id)| *scene_id);
        if found.len() >= k || km >= whole_earth {
            return Ok(found.into_iter().take(k).map(|(distance, scene_id)| (scene_id, distance)).collect());
        }
        km *= 4.0;
    }
}
