//! `s12_intersecting(geometry)` -> `scene_id`: every scene whose footprint and a WGS84 lon/lat
//! geometry (GeoJSON or WKT) share at least one point, by scene_id — the catalog's R*Tree finds
//! the scenes whose boxes meet the geometry's box, then `s12_intersects`'s exact planar test
//! decides on each candidate's WKB footprint.

use crate::catalog::read;
use crate::geometry::parse::parse_geometry;
use crate::geometry::wkb::footprint_polygon;
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::fail;
use crate::sql::runtime::session::Session;
use crate::sql::runtime::table::TableFunction;
use geo::{BoundingRect, Intersects};
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

const F: &str = "s12_intersecting";

pub(crate) struct Intersecting {
    scene_ids: Vec<i64>,
}

impl TableFunction for Intersecting {
    const NAME: &'static str = F;
    const COLUMNS: &'static [&'static str] = &["scene_id"];
    const ARGUMENTS: &'static [&'static str] = &["geometry"];
    const REQUIRED: usize = 1;

    fn rows(conn: &Connection, _: &Session, arguments: &[Value]) -> Result<Option<Self>> {
        let Some(text) = arguments::text(F, arguments, 0, "geometry")? else { return Ok(None) };
        let geometry = parse_geometry(&text).map_err(|e| fail(F, e))?;
        let Some(bounds) = geometry.bounding_rect() else { return Ok(Some(Intersecting { scene_ids: Vec::new() })) };
        let area = [bounds.min().x, bounds.min().y, bounds.max().x, bounds.max().y];
        let mut scene_ids = Vec::new();
        read::for_each_footprint_in_box(conn, area, |scene_id, geom| {
            let footprint = footprint_polygon(geom).map_err(|e| fail(F, format!("scene {scene_id}: geom: {e}")))?;
            if footprint.intersects(&geometry) {
                scene_ids.push(scene_id);
            }
            Ok(())
        })?;
        scene_ids.sort_unstable();
        Ok(Some(Intersecting { scene_ids }))
    }

    fn len(&self) -> usize {
        self.scene_ids.len()
    }

    fn value(&self, row: usize, _: usize) -> Value {
        Value::Integer(self.scene_ids[row])
    }
}
