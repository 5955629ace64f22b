//! Parquet files of nested rows (structs and lists, as GeoParquet's bbox and STAC's assets need)
//! through the parquet crate's column writers, without Arrow: each row's values are shredded
//! into their leaf columns with definition and repetition levels (Dremel's encoding), a row
//! group at a time, so memory holds one row group whatever the file's size.

use super::ExportError;
use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DataType, DoubleType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::types::{ColumnPath, Type, TypePtr};
use std::fs::File;
use std::sync::Arc;

/// Rows per row group: small enough to hold in memory, large enough for column statistics that
/// let a reader skip most groups of a bbox query.
pub const ROWS_PER_GROUP: usize = 8192;

/// What a field holds.
#[derive(Debug, Clone)]
pub enum Shape {
    /// INT64.
    Int64,
    /// DOUBLE.
    Double,
    /// UTF-8 text.
    Text,
    /// Bytes (WKB).
    Binary,
    /// BOOLEAN.
    Bool,
    /// Milliseconds since 1970-01-01 UTC.
    Timestamp,
    /// A struct of these fields, in order.
    Struct(Vec<Field>),
    /// A list (Parquet's three-level LIST) of this element.
    List(Box<Field>),
}

/// A named column or struct member.
#[derive(Debug, Clone)]
pub struct Field {
    /// Its name.
    pub name: String,
    /// Whether it may be null.
    pub optional: bool,
    /// What it holds.
    pub shape: Shape,
}

impl Field {
    /// A field that may be null.
    pub fn optional(name: &str, shape: Shape) -> Field {
        Field { name: name.into(), optional: true, shape }
    }

    /// A field that is never null.
    pub fn required(name: &str, shape: Shape) -> Field {
        Field { name: name.into(), optional: false, shape }
    }

    /// Leaf columns below it.
    fn leaf_count(&self) -> usize {
        match &self.shape {
            Shape::Struct(children) => children.iter().map(Field::leaf_count).sum(),
            Shape::List(element) => element.leaf_count(),
            _ => 1,
        }
    }

    fn parquet_type(&self) -> parquet::errors::Result<TypePtr> {
        let repetition = if self.optional { Repetition::OPTIONAL } else { Repetition::REQUIRED };
        let primitive = |physical, logical| {
            Type::primitive_type_builder(&self.name, physical)
                .with_repetition(repetition)
                .with_logical_type(logical)
                .build()
        };
        let built = match &self.shape {
            Shape::Int64 => primitive(Physical::INT64, None)?,
            Shape::Double => primitive(Physical::DOUBLE, None)?,
            Shape::Text => primitive(Physical::BYTE_ARRAY, Some(LogicalType::String))?,
            Shape::Binary => primitive(Physical::BYTE_ARRAY, None)?,
            Shape::Bool => primitive(Physical::BOOLEAN, None)?,
            Shape::Timestamp => primitive(Physical::INT64, Some(LogicalType::timestamp(true, TimeUnit::MILLIS)))?,
            Shape::Struct(children) => {
                let fields = children.iter().map(Field::parquet_type).collect::<Result<_, _>>()?;
                Type::group_type_builder(&self.name).with_repetition(repetition).with_fields(fields).build()?
            }
            Shape::List(element) => {
                let element = Field { name: "element".into(), ..(**element).clone() }.parquet_type()?;
                let list =
                    Type::group_type_builder("list").with_repetition(Repetition::REPEATED).with_fields(vec![element]);
                Type::group_type_builder(&self.name)
                    .with_repetition(repetition)
                    .with_logical_type(Some(LogicalType::List))
                    .with_fields(vec![Arc::new(list.build()?)])
                    .build()?
            }
        };
        Ok(Arc::new(built))
    }
}

/// One value of a row, shaped as its field.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value (an optional field).
    Null,
    /// An Int64, a Timestamp, or a Bool (0 or not).
    Int(i64),
    /// A Double.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A struct's members, in its fields' order.
    Struct(Vec<Cell>),
    /// A list's elements.
    List(Vec<Cell>),
}

/// A leaf column's values in the row group being filled, with their levels.
#[derive(Default)]
struct Levels<T> {
    values: Vec<T>,
    definition: Vec<i16>,
    repetition: Vec<i16>,
}

enum Leaf {
    Int(Levels<i64>),
    Real(Levels<f64>),
    Bytes(Levels<ByteArray>),
    Bool(Levels<bool>),
}

impl Leaf {
    fn for_shape(shape: &Shape) -> Leaf {
        match shape {
            Shape::Int64 | Shape::Timestamp => Leaf::Int(Levels::default()),
            Shape::Double => Leaf::Real(Levels::default()),
            Shape::Bool => Leaf::Bool(Levels::default()),
            _ => Leaf::Bytes(Levels::default()),
        }
    }

    /// A value (None: null or an empty list above it) at its levels.
    fn push(&mut self, cell: Option<&Cell>, definition: i16, repetition: i16) -> Result<(), ExportError> {
        fn add<T>(levels: &mut Levels<T>, value: Option<T>, definition: i16, repetition: i16) {
            levels.values.extend(value);
            levels.definition.push(definition);
            levels.repetition.push(repetition);
        }
        match (self, cell) {
            (Leaf::Int(l), None) => add(l, None, definition, repetition),
            (Leaf::Real(l), None) => add(l, None, definition, repetition),
            (Leaf::Bytes(l), None) => add(l, None, definition, repetition),
            (Leaf::Bool(l), None) => add(l, None, definition, repetition),
            (Leaf::Int(l), Some(Cell::Int(v))) => add(l, Some(*v), definition, repetition),
            (Leaf::Real(l), Some(Cell::Real(v))) => add(l, Some(*v), definition, repetition),
            (Leaf::Real(l), Some(Cell::Int(v))) => add(l, Some(*v as f64), definition, repetition),
            (Leaf::Bytes(l), Some(Cell::Text(v))) => {
                add(l, Some(ByteArray::from(v.as_bytes().to_vec())), definition, repetition);
            }
            (Leaf::Bytes(l), Some(Cell::Bytes(v))) => add(l, Some(ByteArray::from(v.clone())), definition, repetition),
            (Leaf::Bool(l), Some(Cell::Int(v))) => add(l, Some(*v != 0), definition, repetition),
            (_, Some(other)) => return Err(ExportError::Value(format!("a value of the wrong type: {other:?}"))),
        }
        Ok(())
    }

    /// Writes the buffered values as the row group's column and empties the buffer.
    fn write(&mut self, column: &mut SerializedColumnWriter, repeated: bool) -> parquet::errors::Result<()> {
        match self {
            Leaf::Int(l) => write_levels::<Int64Type>(column, l, repeated),
            Leaf::Real(l) => write_levels::<DoubleType>(column, l, repeated),
            Leaf::Bytes(l) => write_levels::<ByteArrayType>(column, l, repeated),
            Leaf::Bool(l) => write_levels::<BoolType>(column, l, repeated),
        }
    }
}

fn write_levels<T: DataType>(
    column: &mut SerializedColumnWriter,
    levels: &mut Levels<T::T>,
    repeated: bool,
) -> parquet::errors::Result<()> {
    let Levels { values, definition, repetition } = std::mem::take(levels);
    let repetition = repeated.then_some(&repetition[..]);
    column.typed::<T>().write_batch(&values, Some(&definition), repetition)?;
    Ok(())
}

/// A Parquet file being written from rows of [`Cell`]s.
pub struct NestedWriter {
    fields: Vec<Field>,
    leaves: Vec<Leaf>,
    /// Whether each leaf is below a list (and so carries repetition levels).
    repeated: Vec<bool>,
    writer: SerializedFileWriter<File>,
    in_group: usize,
    rows: u64,
}

/// A Parquet error as the export reports it.
pub fn parquet_error(e: ParquetError) -> ExportError {
    ExportError::Parquet(e.to_string())
}

impl NestedWriter {
    /// A writer of rows of `fields` to `out`: Snappy pages; no dictionaries below a struct (DuckDB
    /// 2.0 fails on a filter over a dictionary-encoded struct field: "Vector::Reference used on
    /// vector of different type").
    pub fn new(out: File, fields: Vec<Field>) -> Result<NestedWriter, ExportError> {
        let types = fields.iter().map(Field::parquet_type).collect::<Result<_, _>>().map_err(parquet_error)?;
        let schema = Arc::new(Type::group_type_builder("schema").with_fields(types).build().map_err(parquet_error)?);
        let mut properties = WriterProperties::builder().set_compression(Compression::SNAPPY);
        let descriptor = parquet::schema::types::SchemaDescriptor::new(schema.clone());
        for column in descriptor.columns() {
            if column.path().parts().len() > 1 {
                properties =
                    properties.set_column_dictionary_enabled(ColumnPath::new(column.path().parts().to_vec()), false);
            }
        }
        let repeated = descriptor.columns().iter().map(|c| c.max_rep_level() > 0).collect();
        let properties = properties.set_created_by(format!("sen12lite {}", env!("CARGO_PKG_VERSION"))).build();
        let writer = SerializedFileWriter::new(out, schema, Arc::new(properties)).map_err(parquet_error)?;
        let mut leaves = Vec::new();
        fields.iter().for_each(|field| collect_leaves(field, &mut leaves));
        Ok(NestedWriter { fields, leaves, repeated, writer, in_group: 0, rows: 0 })
    }

    /// Adds a row (one cell per field); a full row group is written out.
    pub fn push(&mut self, row: &[Cell]) -> Result<(), ExportError> {
        if row.len() != self.fields.len() {
            return Err(ExportError::Value(format!("a row of {} values for {} columns", row.len(), self.fields.len())));
        }
        let mut first_leaf = 0;
        for (field, cell) in self.fields.iter().zip(row) {
            shred(field, cell, &mut self.leaves[first_leaf..], 0, 0, 0)?;
            first_leaf += field.leaf_count();
        }
        self.rows += 1;
        self.in_group += 1;
        if self.in_group == ROWS_PER_GROUP {
            self.write_group().map_err(parquet_error)?;
        }
        Ok(())
    }

    fn write_group(&mut self) -> parquet::errors::Result<()> {
        let mut group = self.writer.next_row_group()?;
        for (leaf, &repeated) in self.leaves.iter_mut().zip(&self.repeated) {
            let Some(mut column) = group.next_column()? else {
                return Err(ParquetError::General("fewer columns than leaves".into()));
            };
            leaf.write(&mut column, repeated)?;
            column.close()?;
        }
        group.close()?;
        self.in_group = 0;
        Ok(())
    }

    /// Writes the last row group and the footer with `metadata`; the number of rows written.
    pub fn finish(mut self, metadata: Vec<(&str, String)>) -> Result<u64, ExportError> {
        if self.in_group > 0 {
            self.write_group().map_err(parquet_error)?;
        }
        for (key, value) in metadata {
            self.writer.append_key_value_metadata(KeyValue::new(key.into(), value));
        }
        self.writer.close().map_err(parquet_error)?;
        Ok(self.rows)
    }
}

fn collect_leaves(field: &Field, leaves: &mut Vec<Leaf>) {
    match &field.shape {
        Shape::Struct(children) => children.iter().for_each(|child| collect_leaves(child, leaves)),
        Shape::List(element) => collect_leaves(element, leaves),
        shape => leaves.push(Leaf::for_shape(shape)),
    }
}

/// Appends `cell` of `field` to its leaves (the slice starts at the field's first leaf).
/// `definition` and `repetition` are the levels reached above the field, `depth` the lists above.
fn shred(
    field: &Field,
    cell: &Cell,
    leaves: &mut [Leaf],
    definition: i16,
    repetition: i16,
    depth: i16,
) -> Result<(), ExportError> {
    let absent = |leaves: &mut [Leaf], definition| -> Result<(), ExportError> {
        leaves[..field.leaf_count()].iter_mut().try_for_each(|leaf| leaf.push(None, definition, repetition))
    };
    if *cell == Cell::Null {
        return match field.optional {
            true => absent(leaves, definition),
            false => Err(ExportError::Value(format!("{} is required, and the row has none", field.name))),
        };
    }
    let definition = definition + i16::from(field.optional);
    let mismatch = || ExportError::Value(format!("{}: {cell:?} is not a {:?}", field.name, field.shape));
    match (&field.shape, cell) {
        (Shape::Struct(children), Cell::Struct(members)) if children.len() == members.len() => {
            let mut first_leaf = 0;
            for (child, member) in children.iter().zip(members) {
                shred(child, member, &mut leaves[first_leaf..], definition, repetition, depth)?;
                first_leaf += child.leaf_count();
            }
            Ok(())
        }
        (Shape::List(_), Cell::List(items)) if items.is_empty() => absent(leaves, definition),
        (Shape::List(element), Cell::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                let repetition = if i == 0 { repetition } else { depth + 1 };
                shred(element, item, leaves, definition + 1, repetition, depth + 1)?;
            }
            Ok(())
        }
        (Shape::Struct(_) | Shape::List(_), _) => Err(mismatch()),
        (_, Cell::Struct(_) | Cell::List(_)) => Err(mismatch()),
        _ => leaves[0]
            .push(Some(cell), definition, repetition)
            .map_err(|e| ExportError::Value(format!("{}: {e}", field.name))),
    }
}
