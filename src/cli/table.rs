//! Query results as text, the way `sqlite3 -header -column` prints them: for the demo and the
//! `sql` verb.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Statement};

/// Runs one query and formats it like `sqlite3 -header -column` would: a header, then rows.
pub fn format_query(conn: &Connection, sql: &str) -> rusqlite::Result<String> {
    format_statement(&mut conn.prepare(sql)?)
}

/// Runs a prepared statement and formats its rows.
pub fn format_statement(statement: &mut Statement) -> rusqlite::Result<String> {
    let names: Vec<String> = statement.column_names().iter().map(|n| n.to_string()).collect();
    let mut rows: Vec<Vec<String>> = vec![names.clone()];
    let mut cursor = statement.query([])?;
    while let Some(row) = cursor.next()? {
        rows.push((0..names.len()).map(|i| row.get_ref(i).map(cell).unwrap_or_default()).collect());
    }
    let widths: Vec<usize> =
        (0..names.len()).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (index, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if index == 0 {
            out.push_str(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
            out.push('\n');
        }
    }
    Ok(out)
}

fn cell(value: ValueRef) -> String {
    match value {
        ValueRef::Null => String::new(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => format!("<{} bytes>", b.len()),
    }
}
