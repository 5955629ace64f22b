//! `s12_version()`, `s12_debug()`.

use super::interrupt;
use super::session::Session;
use rusqlite::{Connection, Result};
use std::sync::Arc;

pub fn register(conn: &Connection, session: &Arc<Session>) -> Result<()> {
    conn.create_scalar_function("s12_version", 0, super::pure(), |_| Ok(format!("v{}", env!("CARGO_PKG_VERSION"))))?;
    let session = Arc::clone(session);
    conn.create_scalar_function("s12_debug", 0, super::pure(), move |_| Ok(debug_text(&session)))
}

/// Versions of everything that decides behaviour: ours, the build flavour, SQLite, GDAL; whether
/// calls can be interrupted; the limits in force.
fn debug_text(session: &Session) -> String {
    let flavour = if cfg!(feature = "loadable") { "loadable extension" } else { "linked" };
    let interrupts = if interrupt::available() { "yes" } else { "no (the host's SQLite is older than 3.41)" };
    format!(
        "sen12lite v{} ({flavour}, {})\nSQLite {}\nGDAL {}\ninterruptible: {interrupts}\n{}",
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) { "debug" } else { "release" },
        rusqlite::version(),
        gdal::version::version_info("RELEASE_NAME"),
        session.limits,
    )
    .trim_end()
    .to_string()
}
