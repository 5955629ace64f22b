//! `s12_intersects(scene, geometry)` -> 1 when the scene's footprint and a GeoJSON or WKT
//! geometry in lon/lat share at least one point, else 0: the exact test after the
//! `scenes_rtree` box prefilter (`s12_intersecting` does both for all scenes). Planar in lon/lat,
//! as the footprints and the R*Tree are.

use crate::catalog::read;
use crate::geometry::parse::parse_geometry;
use crate::geometry::wkb::footprint_polygon;
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::fail;
use crate::sql::runtime::resolve;
use geo::Intersects;
use rusqlite::functions::Context;
use rusqlite::Result;

const F: &str = "s12_intersects";

pub(crate) fn intersects(ctx: &Context) -> Result<Option<bool>> {
    let (Some(scene), Some(text)) = (arguments::scene(F, ctx, 0)?, arguments::text(F, ctx, 1, "geometry")?) else {
        return Ok(None);
    };
    let geometry = parse_geometry(&text).map_err(|e| fail(F, e))?;
    let conn = arguments::connection(ctx)?;
    let row = resolve::scene(&conn, F, &scene)?;
    let footprint =
        read::footprint(&conn, row.scene_id)?.ok_or_else(|| fail(F, format!("scene {} has no footprint", row.name)))?;
    let polygon = footprint_polygon(&footprint).map_err(|e| fail(F, format!("scene {}: footprint: {e}", row.name)))?;
    Ok(Some(polygon.intersects(&geometry)))
}
