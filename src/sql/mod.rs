//! The `s12_*` SQL functions, one file per function; `register` adds them to a connection.
//! Functions that read files are DIRECTONLY (no view or trigger of a foreign database can call
//! them); pure ones are DETERMINISTIC | INNOCUOUS.

mod args;
mod index;
mod patches;
mod indices;
mod intersects;
mod nearest;
mod pixel;
mod pixels;
mod png;
mod resolve;
mod season;
mod stats;
mod table;
mod value;
mod version;
mod window;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, Result};

/// Flags of a pure function: same output for the same input, harmless anywhere.
pub(crate) fn pure() -> FunctionFlags {
    FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS
}

/// Flags of a function that reads files: only the user's own SQL may call it, never a view or
/// trigger of a database someone sent.
pub(crate) fn reads_files() -> FunctionFlags {
    FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DIRECTONLY
}

/// Flags of a function that reads the catalog but no file: harmless in a view, but its result
/// depends on the tables, so not DETERMINISTIC.
pub(crate) fn reads_catalog() -> FunctionFlags {
    FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_INNOCUOUS
}

/// How long a connection without a busy timeout of its own waits for a writer (an ingest).
pub const DEFAULT_BUSY_TIMEOUT_MS: u64 = 5000;

/// Every `s12_` function and table of this crate, registered on `conn`; a connection whose busy
/// timeout is 0 (SQLite's default, the sqlite3 shell's) gets `DEFAULT_BUSY_TIMEOUT_MS`, because
/// a catalog is often read while an ingest commits to it and even WAL readers can then meet
/// SQLITE_BUSY for a moment (tests/python/test_concurrency.py).
pub fn register(conn: &Connection) -> Result<()> {
    let busy_timeout_ms: i64 = conn.query_row("PRAGMA busy_timeout", [], |r| r.get(0))?;
    if busy_timeout_ms == 0 {
        conn.busy_timeout(std::time::Duration::from_millis(DEFAULT_BUSY_TIMEOUT_MS))?;
    }
    version::register(conn)?;
    season::register(conn)?;
    window::register(conn)?;
    pixel::register(conn)?;
    stats::register(conn)?;
    index::register(conn)?;
    value::register(conn)?;
    indices::register(conn)?;
    patches::register(conn)?;
    pixels::register(conn)?;
    nearest::register(conn)?;
    intersects::register(conn)?;
    png::register(conn)?;
    Ok(())
}

/// The names `register` adds: docs/sql.md must have an entry for each (a test checks).
pub const NAMES: [&str; 15] = [
    "s12_version", "s12_debug", "s12_season", "s12_window", "s12_pixel", "s12_value", "s12_stats", "s12_index",
    "s12_index_mean", "s12_indices", "s12_patches", "s12_pixels", "s12_nearest", "s12_intersects", "s12_png",
];
