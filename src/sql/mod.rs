//! The `s12_*` SQL functions, one file per function; `register` adds them to a connection.
//! Functions that read files are DIRECTONLY (no view or trigger of a foreign database can call
//! them); pure ones are DETERMINISTIC | INNOCUOUS.

mod season;
mod version;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, Result};

/// Flags of a pure function: same output for the same input, harmless anywhere.
pub(crate) fn pure() -> FunctionFlags {
    FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS
}

/// Every `s12_` function and table of this crate, registered on `conn`.
pub fn register(conn: &Connection) -> Result<()> {
    version::register(conn)?;
    season::register(conn)?;
    Ok(())
}

/// The names `register` adds: docs/sql.md must have an entry for each (a test checks).
pub const NAMES: [&str; 3] = ["s12_version", "s12_debug", "s12_season"];
