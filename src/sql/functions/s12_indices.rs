//! `s12_indices` -> `name, formula, bands, modality`: the spectral indices `s12_index` knows.

use crate::raster::indices::INDICES;
use crate::sql::runtime::session::Session;
use crate::sql::runtime::table::TableFunction;
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

pub(crate) struct IndexList;

impl TableFunction for IndexList {
    const NAME: &'static str = "s12_indices";
    const COLUMNS: &'static [&'static str] = &["name", "formula", "bands", "modality"];
    const ARGUMENTS: &'static [&'static str] = &[];
    const REQUIRED: usize = 0;

    fn rows(_: &Connection, _: &Session, _: &[Value]) -> Result<Option<Self>> {
        Ok(Some(IndexList))
    }

    fn len(&self) -> usize {
        INDICES.len()
    }

    fn value(&self, row: usize, column: usize) -> Value {
        let def = &INDICES[row];
        let text = match column {
            0 => def.name.to_string(),
            1 => def.formula.to_string(),
            2 => def.bands.join(","),
            _ => def.modality.name().to_string(),
        };
        Value::Text(text)
    }
}
