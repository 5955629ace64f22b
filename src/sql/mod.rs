//! The `s12_*` SQL functions, one file per function; `register` adds them to a connection.
//! Functions that read files are DIRECTONLY (no view or trigger of a foreign database can call
//! them); pure ones are DETERMINISTIC | INNOCUOUS.

mod args;
mod index;
mod indices;
mod interrupt;
mod intersects;
mod limits;
mod nearest;
mod patches;
mod pixel;
mod pixels;
mod png;
mod resolve;
mod season;
mod session;
mod stats;
mod table;
mod value;
mod version;
mod window;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, Result};
use session::Session;

#[cfg(feature = "loadable")]
pub(crate) use interrupt::remember as remember_interrupt_routine;
pub use limits::{Limit, Limits};

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
/// SQLITE_BUSY for a moment (tests/python/test_concurrency.py). The functions share one
/// [`Session`] (open datasets, the limits of the environment), dropped when the connection closes;
/// a bad `SEN12LITE_MAX_*` variable makes registration fail with a message naming it.
pub fn register(conn: &Connection) -> Result<()> {
    let session = Session::from_env().map_err(|e| args::fail("sen12lite", e))?;
    let busy_timeout_ms: i64 = conn.query_row("PRAGMA busy_timeout", [], |r| r.get(0))?;
    if busy_timeout_ms == 0 {
        conn.busy_timeout(std::time::Duration::from_millis(DEFAULT_BUSY_TIMEOUT_MS))?;
    }
    version::register(conn, &session)?;
    season::register(conn)?;
    window::register(conn, &session)?;
    pixel::register(conn, &session)?;
    stats::register(conn, &session)?;
    index::register(conn, &session)?;
    value::register(conn, &session)?;
    indices::register(conn, &session)?;
    patches::register(conn, &session)?;
    pixels::register(conn, &session)?;
    nearest::register(conn, &session)?;
    intersects::register(conn)?;
    png::register(conn, &session)?;
    Ok(())
}

/// The names `register` adds: docs/sql.md must have an entry for each (a test checks).
pub const NAMES: [&str; 15] = [
    "s12_version",
    "s12_debug",
    "s12_season",
    "s12_window",
    "s12_pixel",
    "s12_value",
    "s12_stats",
    "s12_index",
    "s12_index_mean",
    "s12_indices",
    "s12_patches",
    "s12_pixels",
    "s12_nearest",
    "s12_intersects",
    "s12_png",
];
