//! `s12_nearest(lon, lat, k)` -> `scene_id, distance_km`: the k scene footprints nearest to a
//! WGS84 point, nearest first, by great-circle distance on a spherical Earth (0 inside).
//! The index over the catalog's footprints is built on a connection's first use, kept in its
//! session, and rebuilt when the catalog changes (another connection's commit moves
//! `PRAGMA data_version`, this one's `total_changes`).

use super::session::{lock, CatalogState, Session};
use super::table::TableFunction;
use super::utils::{self, fail};
use crate::catalog::read;
use crate::geometry::parse::polygon_ring;
use crate::geometry::sphere::{Footprint, FootprintIndex};
use rusqlite::types::Value;
use rusqlite::{Connection, Result};
use std::sync::Arc;

const F: &str = "s12_nearest";
pub const MAX_K: i64 = 100_000;

pub(super) struct Nearest {
    rows: Vec<(i64, f64)>,
}

impl TableFunction for Nearest {
    const NAME: &'static str = F;
    const COLUMNS: &'static [&'static str] = &["scene_id", "distance_km"];
    const ARGUMENTS: &'static [&'static str] = &["lon", "lat", "k"];
    const REQUIRED: usize = 2;

    fn rows(conn: &Connection, session: &Session, arguments: &[Value]) -> Result<Option<Self>> {
        let (Some(lon), Some(lat)) = (utils::real(F, arguments, 0, "lon")?, utils::real(F, arguments, 1, "lat")?)
        else {
            return Ok(None);
        };
        let k = utils::integer(F, arguments, 2, "k")?.unwrap_or(1);
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(fail(F, format!("({lon}, {lat}) is not a WGS84 lon/lat position")));
        }
        if !(1..=MAX_K).contains(&k) {
            return Err(fail(F, format!("k must be 1..{MAX_K}, got {k}")));
        }
        let index = footprint_index(conn, session)?;
        Ok(Some(Nearest { rows: index.nearest(lon, lat, k as usize) }))
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

/// The catalog as this connection sees it: commits seen, own changes.
fn catalog_state(conn: &Connection) -> Result<CatalogState> {
    let data_version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
    Ok((data_version, conn.total_changes()))
}

fn footprint_index(conn: &Connection, session: &Session) -> Result<Arc<FootprintIndex>> {
    let state = catalog_state(conn)?;
    let mut cached = lock(&session.footprints);
    if let Some((_, index)) = cached.as_ref().filter(|(s, _)| *s == state) {
        return Ok(Arc::clone(index));
    }
    let mut footprints = Vec::new();
    read::for_each_footprint(conn, |scene_id, text| {
        let ring = polygon_ring(text).map_err(|e| fail(F, format!("scene {scene_id}: footprint: {e}")))?;
        footprints.push(Footprint::new(scene_id, &ring).map_err(|e| fail(F, e))?);
        Ok(())
    })?;
    let index = Arc::new(FootprintIndex::new(footprints));
    *cached = Some((state, Arc::clone(&index)));
    Ok(index)
}
