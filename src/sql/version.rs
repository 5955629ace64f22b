//! `s12_version()`, `s12_debug()`.

use rusqlite::{Connection, Result};

pub fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function("s12_version", 0, super::pure(), |_| Ok(format!("v{}", env!("CARGO_PKG_VERSION"))))?;
    conn.create_scalar_function("s12_debug", 0, super::pure(), |_| Ok(debug_text()))
}

/// Versions of everything that decides behaviour: ours, the build flavour, SQLite, GDAL.
fn debug_text() -> String {
    let flavour = if cfg!(feature = "loadable") { "loadable extension" } else { "linked" };
    format!(
        "sen12lite v{} ({flavour}, {})\nSQLite {}\nGDAL {}",
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) { "debug" } else { "release" },
        rusqlite::version(),
        gdal::version::version_info("RELEASE_NAME"),
    )
}
