//! `sen12lite sql DB "SELECT ..."`: the `s12_` functions for clients that cannot load extensions.
//! Each statement's rows are printed as columns; `--blob FILE` writes the first value of the
//! last statement's first row (an `.npy` or `.png` BLOB) to a file instead.

use super::table::format_statement;
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::types::ValueRef;
use rusqlite::{Batch, Connection, OpenFlags, Statement};
use std::path::Path;

/// `sen12lite sql`: runs `sql` on the catalog `db` with the s12_ functions registered, prints each statement's rows,
/// and writes the last statement's first value to `blob` when asked.
pub fn run_sql(db: &Path, sql: &str, blob: Option<&Path>) -> Result<(), String> {
    // No CREATE: a mistyped path is an error, not a new empty catalog.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(db, flags).map_err(|e| format!("sql: cannot open {}: {e}", db.display()))?;
    sen12lite::sql::register(&conn).map_err(|e| format!("sql: {e}"))?;
    let mut batch = Batch::new(&conn, sql);
    let mut statements = Vec::new();
    while let Some(statement) = batch.next().map_err(|e| format!("sql: {e}"))? {
        statements.push(statement);
    }
    let Some((last, earlier)) = statements.split_last_mut() else { return Err("sql: no statement given".into()) };
    for statement in earlier {
        print!("{}", format_statement(statement).map_err(|e| format!("sql: {e}"))?);
    }
    match blob {
        Some(path) => write_first_value(last, path),
        None => {
            print!("{}", format_statement(last).map_err(|e| format!("sql: {e}"))?);
            Ok(())
        }
    }
}

fn write_first_value(statement: &mut Statement, path: &Path) -> Result<(), String> {
    let mut rows = statement.query([]).map_err(|e| format!("sql: {e}"))?;
    let row = rows.next().map_err(|e| format!("sql: {e}"))?.ok_or("sql: --blob: the query returned no row")?;
    let bytes = match row.get_ref(0).map_err(|e| format!("sql: {e}"))? {
        ValueRef::Blob(b) | ValueRef::Text(b) => b.to_vec(),
        ValueRef::Integer(i) => i.to_string().into_bytes(),
        ValueRef::Real(r) => r.to_string().into_bytes(),
        ValueRef::Null => return Err("sql: --blob: the value is NULL".into()),
    };
    std::fs::write(path, &bytes).map_err(|e| format!("sql: cannot write {}: {e}", path.display()))?;
    eprintln!("sql: wrote {} bytes to {}", bytes.len(), path.display());
    Ok(())
}
