//! GeoParquet 1.1: the scene table with its footprint as WKB (`geometry`), the `bbox` covering
//! column (a struct of xmin/ymin/xmax/ymax that readers filter row groups by), and the `geo`
//! file metadata (encoding, geometry type, CRS as PROJJSON, bbox of the whole file). Written a row
//! group at a time, so memory does not grow with the catalog.

use super::scenes::{Kind, SceneQuery, GEOMETRY_COLUMNS};
use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DataType, DoubleType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::fs::File;
use std::sync::Arc;

/// Rows per row group: small enough to hold in memory, large enough for column statistics that
/// let a reader skip most groups of a bbox query.
pub const ROWS_PER_GROUP: usize = 8192;

/// One column's values of a row group, and which rows have one (Parquet's definition levels).
#[derive(Default)]
struct Buffer<T> {
    values: Vec<T>,
    defined: Vec<i16>,
}

impl<T> Buffer<T> {
    fn push(&mut self, value: Option<T>) {
        self.defined.push(value.is_some() as i16);
        self.values.extend(value);
    }
}

/// A row group being filled, one buffer per Parquet leaf column in schema order.
enum Leaf {
    Integer(Buffer<i64>),
    Real(Buffer<f64>),
    Bytes(Buffer<ByteArray>),
    Boolean(Buffer<bool>),
}

impl Leaf {
    fn for_kind(kind: Kind) -> Leaf {
        match kind {
            Kind::Integer | Kind::Time => Leaf::Integer(Buffer::default()),
            Kind::Real => Leaf::Real(Buffer::default()),
            Kind::Text | Kind::Blob | Kind::Any => Leaf::Bytes(Buffer::default()),
            Kind::Boolean => Leaf::Boolean(Buffer::default()),
        }
    }

    fn push(&mut self, value: ValueRef) -> Result<(), String> {
        match (self, value) {
            (Leaf::Integer(b), ValueRef::Null) => b.push(None),
            (Leaf::Real(b), ValueRef::Null) => b.push(None),
            (Leaf::Bytes(b), ValueRef::Null) => b.push(None),
            (Leaf::Boolean(b), ValueRef::Null) => b.push(None),
            (Leaf::Integer(b), ValueRef::Integer(v)) => b.push(Some(v)),
            (Leaf::Real(b), ValueRef::Real(v)) => b.push(Some(v)),
            (Leaf::Real(b), ValueRef::Integer(v)) => b.push(Some(v as f64)),
            (Leaf::Bytes(b), ValueRef::Text(v) | ValueRef::Blob(v)) => b.push(Some(ByteArray::from(v.to_vec()))),
            (Leaf::Boolean(b), ValueRef::Integer(v)) => b.push(Some(v != 0)),
            (_, other) => return Err(format!("unexpected {:?} value", other.data_type())),
        }
        Ok(())
    }

    /// Writes the buffered values as the row group's column and empties the buffer.
    fn write(&mut self, column: &mut SerializedColumnWriter) -> parquet::errors::Result<()> {
        match self {
            Leaf::Integer(b) => write_buffer::<Int64Type>(column, b),
            Leaf::Real(b) => write_buffer::<DoubleType>(column, b),
            Leaf::Bytes(b) => write_buffer::<ByteArrayType>(column, b),
            Leaf::Boolean(b) => write_buffer::<BoolType>(column, b),
        }
    }
}

fn write_buffer<T: DataType>(
    column: &mut SerializedColumnWriter,
    buffer: &mut Buffer<T::T>,
) -> parquet::errors::Result<()> {
    let Buffer { values, defined } = std::mem::take(buffer);
    column.typed::<T>().write_batch(&values, Some(&defined), None)?;
    Ok(())
}

/// The Parquet schema of the query's columns, `geometry` and `bbox`.
fn schema(query: &SceneQuery) -> String {
    let attributes: String = query
        .columns
        .iter()
        .map(|c| {
            let (physical, logical) = match c.kind {
                Kind::Integer => ("INT64", ""),
                Kind::Real => ("DOUBLE", ""),
                Kind::Text | Kind::Any => ("BYTE_ARRAY", " (STRING)"),
                Kind::Blob => ("BYTE_ARRAY", ""),
                Kind::Boolean => ("BOOLEAN", ""),
                Kind::Time => ("INT64", " (TIMESTAMP(MILLIS,true))"),
            };
            format!("OPTIONAL {physical} {}{logical};\n", c.name)
        })
        .collect();
    format!(
        "message scenes {{\n{attributes}OPTIONAL BYTE_ARRAY geometry;\n\
         OPTIONAL group bbox {{ REQUIRED DOUBLE xmin; REQUIRED DOUBLE ymin; REQUIRED DOUBLE xmax; REQUIRED DOUBLE ymax; }}\n}}"
    )
}

/// The bounding box of every footprint written so far.
#[derive(Clone, Copy)]
struct Extent([f64; 4]);

impl Extent {
    fn empty() -> Extent {
        Extent([f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY])
    }

    fn add(&mut self, b: [f64; 4]) {
        self.0 = [self.0[0].min(b[0]), self.0[1].min(b[1]), self.0[2].max(b[2]), self.0[3].max(b[3])];
    }
}

/// The `geo` metadata of GeoParquet 1.1 for `extent`, with the CRS (longitude first, as the WKB is).
fn geo_metadata(extent: Extent, crs_projjson: &str) -> Result<String, String> {
    let mut crs: serde_json::Value =
        serde_json::from_str(crs_projjson).map_err(|e| format!("PROJJSON of OGC:CRS84: {e}"))?;
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
pub fn write(conn: &Connection, query: &SceneQuery, out: File) -> Result<u64, String> {
    let fail = |e: parquet::errors::ParquetError| format!("writing GeoParquet: {e}");
    let schema = Arc::new(parse_message_type(&schema(query)).map_err(fail)?);
    let mut properties = WriterProperties::builder().set_compression(Compression::SNAPPY);
    // The bbox's doubles are all different: a dictionary only costs, and DuckDB 2.0 fails on a
    // filter over a dictionary-encoded struct field ("Vector::Reference used on vector of
    // different type").
    for corner in ["xmin", "ymin", "xmax", "ymax"] {
        properties = properties
            .set_column_dictionary_enabled(ColumnPath::from(vec!["bbox".to_string(), corner.to_string()]), false);
    }
    let properties = properties.set_created_by(format!("sen12lite {}", env!("CARGO_PKG_VERSION"))).build();
    let mut writer = SerializedFileWriter::new(out, schema, Arc::new(properties)).map_err(fail)?;
    // The attributes, the WKB, then the bbox's four doubles: the schema's leaves in order.
    let mut leaves: Vec<Leaf> = query.columns.iter().map(|c| Leaf::for_kind(c.kind)).collect();
    leaves.push(Leaf::Bytes(Buffer::default()));
    leaves.extend((0..4).map(|_| Leaf::Real(Buffer::default())));
    let mut extent = Extent::empty();
    let (mut rows, mut in_group) = (0u64, 0usize);
    let mut statement = conn.prepare(&query.sql).map_err(|e| format!("export: {e}"))?;
    let mut cursor = statement.query([]).map_err(|e| format!("export: {e}"))?;
    while let Some(row) = cursor.next().map_err(|e| format!("export: {e}"))? {
        push_row(row, query.columns.len(), &mut leaves, &mut extent)?;
        rows += 1;
        in_group += 1;
        if in_group == ROWS_PER_GROUP {
            write_group(&mut writer, &mut leaves).map_err(fail)?;
            in_group = 0;
        }
    }
    if in_group > 0 {
        write_group(&mut writer, &mut leaves).map_err(fail)?;
    }
    let crs = gdal::spatial_ref::SpatialRef::from_definition("OGC:CRS84")
        .and_then(|s| s.to_projjson())
        .map_err(|e| format!("PROJJSON of OGC:CRS84: {e}"))?;
    writer.append_key_value_metadata(KeyValue::new("geo".into(), geo_metadata(extent, &crs)?));
    writer.close().map_err(fail)?;
    Ok(rows)
}

/// One row into the buffers: the attributes and the WKB as they come, then the bbox, whose group
/// is OPTIONAL with REQUIRED children: all four values or none (definition level 1 or 0).
fn push_row(row: &rusqlite::Row, attributes: usize, leaves: &mut [Leaf], extent: &mut Extent) -> Result<(), String> {
    for (i, leaf) in leaves[..=attributes].iter_mut().enumerate() {
        let value = row.get_ref(i).map_err(|e| format!("export: {e}"))?;
        leaf.push(value).map_err(|e| format!("export: column {i}: {e}"))?;
    }
    let corners: Option<Vec<f64>> =
        (1..GEOMETRY_COLUMNS.len()).map(|k| row.get::<_, Option<f64>>(attributes + k).ok().flatten()).collect();
    if let Some(corners) = &corners {
        extent.add([corners[0], corners[1], corners[2], corners[3]]);
    }
    for (k, leaf) in leaves[attributes + 1..].iter_mut().enumerate() {
        let value = corners.as_ref().map_or(ValueRef::Null, |c| ValueRef::Real(c[k]));
        leaf.push(value)?;
    }
    Ok(())
}

fn write_group(writer: &mut SerializedFileWriter<File>, leaves: &mut [Leaf]) -> parquet::errors::Result<()> {
    let mut group = writer.next_row_group()?;
    for leaf in leaves.iter_mut() {
        let Some(mut column) = group.next_column()? else {
            return Err(parquet::errors::ParquetError::General("fewer columns than leaves".into()));
        };
        leaf.write(&mut column)?;
        column.close()?;
    }
    group.close()?;
    Ok(())
}
