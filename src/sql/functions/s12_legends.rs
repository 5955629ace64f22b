//! `s12_legends` -> `source, class, label, colour`: the land-cover legends `s12_png` draws in, so
//! that a page or a plot shows the same colours with their labels.

use crate::layout::sen12ms::IGBP_PALETTE;
use crate::layout::sen12tp::WORLDCOVER_PALETTE;
use crate::layout::Modality;
use crate::sql::runtime::session::Session;
use crate::sql::runtime::table::TableFunction;
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

/// Every class of both legends: (source, class code, label, `#rrggbb`).
pub(crate) struct LegendList(Vec<(&'static str, u8, &'static str, String)>);

impl TableFunction for LegendList {
    const NAME: &'static str = "s12_legends";
    const COLUMNS: &'static [&'static str] = &["source", "class", "label", "colour"];
    const ARGUMENTS: &'static [&'static str] = &[];
    const REQUIRED: usize = 0;

    fn rows(_: &Connection, _: &Session, _: &[Value]) -> Result<Option<Self>> {
        let drawn = [(Modality::Worldcover, &WORLDCOVER_PALETTE[..]), (Modality::Lc, &IGBP_PALETTE[..])];
        let mut rows = Vec::new();
        for (modality, palette) in drawn {
            let Some(legend) = modality.legend() else { continue };
            for &(class, label) in legend.classes {
                let colour = palette
                    .iter()
                    .find(|(code, _)| *code == class)
                    .map(|(_, [r, g, b])| format!("#{r:02x}{g:02x}{b:02x}"));
                rows.push((legend.source, class, label, colour.unwrap_or_default()));
            }
        }
        Ok(Some(LegendList(rows)))
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn value(&self, row: usize, column: usize) -> Value {
        let (source, class, label, colour) = &self.0[row];
        match column {
            0 => Value::Text(source.to_string()),
            1 => Value::Integer(i64::from(*class)),
            2 => Value::Text(label.to_string()),
            _ => Value::Text(colour.clone()),
        }
    }
}
