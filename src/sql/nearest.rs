//! `s12_nearest(lon, lat, k)` -> `scene_id, distance_km`: the k scene footprints nearest to a
//! WGS84 point, nearest first, by great-circle distance on a spherical Earth (0 inside).
//! The index over the catalog's footprints is built on first use and rebuilt when the catalog
//! changes (another connection's commit moves `PRAGMA data_version`, this one's `total_changes`).

use super::args::{self, fail};
use super::session::Session;
use super::table::TableFunction;
use crate::geometry::parse::polygon_ring;
use crate::geometry::sphere::{Footprint, FootprintIndex};
use rusqlite::types::Value;
use rusqlite::{Connection, Result};
use std::cell::RefCell;
use std::rc::Rc;

const F: &str = "s12_nearest";
pub const MAX_K: i64 = 100_000;

/// What identifies one state of one catalog: connection, file, commits seen, own changes.
type CatalogState = (usize, String, i64, u64);

thread_local! {
    static INDEX: RefCell<Option<(CatalogState, Rc<FootprintIndex>)>> = const { RefCell::new(None) };
}

pub(super) struct Nearest {
    rows: Vec<(i64, f64)>,
}

impl TableFunction for Nearest {
    const NAME: &'static str = F;
    const COLUMNS: &'static [&'static str] = &["scene_id", "distance_km"];
    const ARGUMENTS: &'static [&'static str] = &["lon", "lat", "k"];
    const REQUIRED: usize = 2;

    fn rows(conn: &Connection, _: &Session, arguments: &[Value]) -> Result<Option<Self>> {
        let (Some(lon), Some(lat)) = (args::real(F, arguments, 0, "lon")?, args::real(F, arguments, 1, "lat")?) else {
            return Ok(None);
        };
        let k = args::integer(F, arguments, 2, "k")?.unwrap_or(1);
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(fail(F, format!("({lon}, {lat}) is not a WGS84 lon/lat position")));
        }
        if !(1..=MAX_K).contains(&k) {
            return Err(fail(F, format!("k must be 1..{MAX_K}, got {k}")));
        }
        let index = footprint_index(conn)?;
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

fn catalog_state(conn: &Connection) -> Result<CatalogState> {
    let data_version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
    // SAFETY: the handle's address only tells connections apart; it is not dereferenced.
    let handle = unsafe { conn.handle() } as usize;
    Ok((handle, conn.path().unwrap_or_default().to_string(), data_version, conn.total_changes()))
}

fn footprint_index(conn: &Connection) -> Result<Rc<FootprintIndex>> {
    let state = catalog_state(conn)?;
    if let Some(index) =
        INDEX.with_borrow(|cached| cached.as_ref().filter(|(s, _)| *s == state).map(|(_, i)| i.clone()))
    {
        return Ok(index);
    }
    let mut statement = conn.prepare("SELECT scene_id, footprint FROM scenes WHERE footprint IS NOT NULL")?;
    let mut rows = statement.query([])?;
    let mut footprints = Vec::new();
    while let Some(row) = rows.next()? {
        let (scene_id, text): (i64, String) = (row.get(0)?, row.get(1)?);
        let ring = polygon_ring(&text).map_err(|e| fail(F, format!("scene {scene_id}: footprint: {e}")))?;
        footprints.push(Footprint::new(scene_id, &ring).map_err(|e| fail(F, e))?);
    }
    let index = Rc::new(FootprintIndex::new(footprints));
    INDEX.with_borrow_mut(|cached| *cached = Some((state, index.clone())));
    Ok(index)
}
