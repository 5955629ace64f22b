//! GeoPackage and GeoJSON through OGR: every layer is created with the field types the catalog
//! declares (OGR's own SQLite reader types an SQL result by its first row: a NULL land-cover
//! fraction made the column text, and nanosecond mtimes overflowed 32-bit integers), then filled
//! row by row from SQLite.

use super::scenes::Kind;
use super::ExportError;
use crate::raster::open::last_gdal_error;
use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};
use gdal::vector::{Feature, FieldDefn, Geometry, Layer, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType};
use gdal::{Dataset, DriverManager};
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::path::Path;

/// An output file of one of OGR's vector drivers.
pub struct Output {
    dataset: Dataset,
}

/// A layer to write: its name, its fields and where the rows come from.
pub struct LayerSpec<'a> {
    /// The layer's name.
    pub name: &'a str,
    /// Field names and kinds, in the order of the query's first columns.
    pub fields: Vec<(String, Kind)>,
    /// The query; with a footprint, the column after the fields is its WKB.
    pub sql: &'a str,
    /// Whether the layer has the footprint (a Polygon in EPSG:4326, longitude first).
    pub footprint: bool,
}

fn fail(what: &str, e: impl std::fmt::Display) -> ExportError {
    ExportError::Ogr { what: what.to_string(), reason: e.to_string() }
}

impl Output {
    /// A new file written by `driver` (`GPKG`, `GeoJSON`).
    pub fn create(driver: &str, out: &Path) -> Result<Output, ExportError> {
        let driver = DriverManager::get_driver_by_name(driver).map_err(|e| fail("GDAL driver", e))?;
        let dataset =
            driver.create_vector_only(out).map_err(|e| fail(&format!("cannot create {}", out.display()), e))?;
        Ok(Output { dataset })
    }

    /// Creates the layer and writes every row of its query; the number of rows.
    pub fn write_layer(&mut self, conn: &Connection, spec: &LayerSpec) -> Result<u64, ExportError> {
        let mut srs = SpatialRef::from_epsg(4326).map_err(|e| fail("EPSG:4326", e))?;
        srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        let options = LayerOptions {
            name: spec.name,
            srs: spec.footprint.then_some(&srs),
            ty: if spec.footprint { OGRwkbGeometryType::wkbPolygon } else { OGRwkbGeometryType::wkbNone },
            options: None,
        };
        let layer = self.dataset.create_layer(options).map_err(|e| fail(spec.name, e))?;
        for (name, kind) in &spec.fields {
            let field = FieldDefn::new(name, field_type(*kind)).map_err(|e| fail(name, e))?;
            field.add_to_layer(&layer).map_err(|e| fail(name, e))?;
        }
        fill(conn, spec, &layer)
    }

    /// Wraps `write` in one transaction where the driver has them (GeoPackage: one commit, not
    /// one per feature).
    pub fn in_transaction<T>(
        &mut self,
        write: impl FnOnce(&mut Output) -> Result<T, ExportError>,
    ) -> Result<T, ExportError> {
        // SAFETY: the handle is valid while `self.dataset` lives.
        let transaction = unsafe { gdal_sys::GDALDatasetStartTransaction(self.dataset.c_dataset(), 0) } == 0;
        let written = write(self)?;
        // SAFETY: as above; only after a transaction started.
        if transaction && unsafe { gdal_sys::GDALDatasetCommitTransaction(self.dataset.c_dataset()) } != 0 {
            return Err(fail("commit", last_gdal_error()));
        }
        Ok(written)
    }
}

fn field_type(kind: Kind) -> OGRFieldType::Type {
    match kind {
        Kind::Integer => OGRFieldType::OFTInteger64,
        Kind::Real => OGRFieldType::OFTReal,
        Kind::Boolean => OGRFieldType::OFTInteger,
        Kind::Text | Kind::Time | Kind::Any => OGRFieldType::OFTString,
        Kind::Blob => OGRFieldType::OFTBinary,
    }
}

fn fill(conn: &Connection, spec: &LayerSpec, layer: &Layer) -> Result<u64, ExportError> {
    let mut statement = conn.prepare(spec.sql).map_err(|e| fail(spec.name, e))?;
    let mut rows = statement.query([]).map_err(|e| fail(spec.name, e))?;
    let mut written = 0;
    while let Some(row) = rows.next().map_err(|e| fail(spec.name, e))? {
        let mut feature = Feature::new(layer.defn()).map_err(|e| fail(spec.name, e))?;
        for (i, (_, kind)) in spec.fields.iter().enumerate() {
            set_field(&mut feature, i, *kind, row.get_ref(i).map_err(|e| fail(spec.name, e))?)?;
        }
        if spec.footprint {
            if let ValueRef::Blob(wkb) = row.get_ref(spec.fields.len()).map_err(|e| fail(spec.name, e))? {
                let polygon = Geometry::from_wkb(wkb).map_err(|e| fail("footprint", e))?;
                feature.set_geometry(polygon).map_err(|e| fail("footprint", e))?;
            }
        }
        feature.create(layer).map_err(|e| fail(spec.name, e))?;
        written += 1;
    }
    Ok(written)
}

/// One value into its field; a value of another type than the field's (an `ANY` column) as text.
fn set_field(feature: &mut Feature, i: usize, kind: Kind, value: ValueRef) -> Result<(), ExportError> {
    let set = match (value, kind) {
        (ValueRef::Null, _) => return Ok(()),
        (ValueRef::Integer(v), Kind::Integer | Kind::Boolean) => feature.set_field_integer64(i, v),
        (ValueRef::Integer(v), Kind::Real) => feature.set_field_double(i, v as f64),
        (ValueRef::Real(v), Kind::Real) => feature.set_field_double(i, v),
        (ValueRef::Blob(bytes), Kind::Blob) => {
            // SAFETY: the feature is valid and OGR copies the bytes; the gdal crate has no
            // binary setter.
            unsafe {
                gdal_sys::OGR_F_SetFieldBinary(
                    feature.c_feature(),
                    i as i32,
                    bytes.len() as i32,
                    bytes.as_ptr() as *mut _,
                );
            };
            Ok(())
        }
        (other, _) => feature.set_field_string(i, &as_text(other)),
    };
    set.map_err(|e| fail("field", e))
}

/// A value as the text SQLite would give for it.
fn as_text(value: ValueRef) -> String {
    match value {
        ValueRef::Null => String::new(),
        ValueRef::Integer(v) => v.to_string(),
        ValueRef::Real(v) => v.to_string(),
        ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
    }
}
