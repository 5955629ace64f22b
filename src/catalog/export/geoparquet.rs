//! GeoParquet 1.1: the scene table with its footprint as WKB (`geometry`), the `bbox` covering
//! column (a struct of xmin/ymin/xmax/ymax that readers filter row groups by), and the `geo`
//! file metadata (encoding, geometry type, CRS as PROJJSON, bbox of the whole file). Written a row
//! group at a time, so memory does not grow with the catalog.

use super::nested::{Cell, Field, NestedWriter, Shape};
use super::scenes::{Kind, SceneQuery, GEOMETRY_COLUMNS};
use super::ExportError;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::fs::File;

/// The Parquet shape of an exported column.
pub(super) fn shape_of(kind: Kind) -> Shape {
    match kind {
        Kind::Integer => Shape::Int64,
        Kind::Real => Shape::Double,
        Kind::Text | Kind::Any => Shape::Text,
        Kind::Blob => Shape::Binary,
        Kind::Boolean => Shape::Bool,
        Kind::Time => Shape::Timestamp,
    }
}

/// A catalog value as a cell (a number in a text column, from an `ANY` column, as its text).
pub(super) fn cell_of(value: ValueRef, kind: Kind) -> Cell {
    match (value, kind) {
        (ValueRef::Null, _) => Cell::Null,
        (ValueRef::Integer(v), Kind::Text | Kind::Any) => Cell::Text(v.to_string()),
        (ValueRef::Real(v), Kind::Text | Kind::Any) => Cell::Text(v.to_string()),
        (ValueRef::Integer(v), _) => Cell::Int(v),
        (ValueRef::Real(v), _) => Cell::Real(v),
        (ValueRef::Text(v), Kind::Blob) | (ValueRef::Blob(v), _) => Cell::Bytes(v.to_vec()),
        (ValueRef::Text(v), _) => Cell::Text(String::from_utf8_lossy(v).into_owned()),
    }
}

/// GeoParquet's `bbox` covering column: a struct of the four corners.
pub(super) fn bbox_field(optional: bool) -> Field {
    let corners = ["xmin", "ymin", "xmax", "ymax"].map(|name| Field::required(name, Shape::Double)).to_vec();
    Field { name: "bbox".into(), optional, shape: Shape::Struct(corners) }
}

/// The bounding box of every footprint written so far.
#[derive(Clone, Copy)]
pub(super) struct Extent([f64; 4]);

impl Extent {
    pub(super) fn empty() -> Extent {
        Extent([f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY])
    }

    /// [xmin, ymin, xmax, ymax].
    pub(super) fn corners(&self) -> [f64; 4] {
        self.0
    }

    pub(super) fn add(&mut self, b: [f64; 4]) {
        self.0 = [self.0[0].min(b[0]), self.0[1].min(b[1]), self.0[2].max(b[2]), self.0[3].max(b[3])];
    }
}

/// The `geo` metadata of GeoParquet 1.1 for `extent`, with the CRS (longitude first, as the WKB is).
pub(super) fn geo_metadata(extent: Extent, crs_projjson: &str) -> Result<String, ExportError> {
    let mut crs: serde_json::Value =
        serde_json::from_str(crs_projjson).map_err(|e| ExportError::Value(format!("PROJJSON of OGC:CRS84: {e}")))?;
    // GDAL's PROJJSON of OGC:CRS84 carries no identifier; readers (pyproj, GeoPandas) name the
    // CRS by it.
    crs["id"] = serde_json::json!({"authority": "OGC", "code": "CRS84"});
    let mut geometry = serde_json::json!({
        "encoding": "WKB",
        "geometry_types": ["Polygon"],
        "crs": crs,
        "edges": "planar",
        "covering": {"bbox": {"xmin": ["bbox", "xmin"], "ymin": ["bbox", "ymin"], "xmax": ["bbox", "xmax"], "ymax": ["bbox", "ymax"]}},
    });
    if extent.0[0].is_finite() {
        geometry["bbox"] = serde_json::json!(extent.0);
    }
    Ok(serde_json::json!({"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": geometry}})
        .to_string())
}

/// Writes the rows of `query` to `out`; the number of scenes written.
pub fn write(conn: &Connection, query: &SceneQuery, out: File) -> Result<u64, ExportError> {
    let mut fields: Vec<Field> = query.columns.iter().map(|c| Field::optional(&c.name, shape_of(c.kind))).collect();
    fields.push(Field::optional("geometry", Shape::Binary));
    fields.push(bbox_field(true));
    let mut writer = NestedWriter::new(out, fields)?;
    let mut extent = Extent::empty();
    let mut statement = conn.prepare(&query.sql)?;
    let mut cursor = statement.query([])?;
    while let Some(row) = cursor.next()? {
        let mut cells = Vec::with_capacity(query.columns.len() + 2);
        for (i, column) in query.columns.iter().enumerate() {
            cells.push(cell_of(row.get_ref(i)?, column.kind));
        }
        let (geometry, bbox) = footprint(row, query.columns.len())?;
        if let Some(corners) = bbox {
            extent.add(corners);
        }
        cells.push(geometry);
        cells.push(bbox.map_or(Cell::Null, |c| Cell::Struct(c.map(Cell::Real).to_vec())));
        writer.push(&cells)?;
    }
    writer.finish(vec![("geo", geo_metadata(extent, &crs84_projjson()?)?)])
}

/// The WKB footprint and its bounding box, from the [`GEOMETRY_COLUMNS`] that start at `at`.
pub(super) fn footprint(row: &rusqlite::Row, at: usize) -> Result<(Cell, Option<[f64; 4]>), ExportError> {
    let wkb = row.get_ref(at)?;
    let corners: Option<Vec<f64>> =
        (1..GEOMETRY_COLUMNS.len()).map(|k| row.get::<_, Option<f64>>(at + k).ok().flatten()).collect();
    Ok((cell_of(wkb, Kind::Blob), corners.map(|c| [c[0], c[1], c[2], c[3]])))
}

/// OGC:CRS84 (longitude first, as the WKB is) as PROJJSON.
pub(super) fn crs84_projjson() -> Result<String, ExportError> {
    gdal::spatial_ref::SpatialRef::from_definition("OGC:CRS84")
        .and_then(|s| s.to_projjson())
        .map_err(|e| ExportError::Value(format!("PROJJSON of OGC:CRS84: {e}")))
}
