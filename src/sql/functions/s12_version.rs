//! `s12_version()`, `s12_debug()`.

use crate::raster::tile_store;
use crate::sql::runtime::interrupt;
use crate::sql::runtime::registry::{Shape, SqlFunction};
use crate::sql::runtime::session::Session;

/// This crate's version, `v` first.
pub(crate) fn version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

/// A shape as `s12_debug()` lists it: `name/arity`, `(aggregate)` after an aggregate's, `name(table)`.
fn listed_name(name: &str, shape: &Shape) -> String {
    match shape.arity() {
        None => format!("{name}(table)"),
        Some(arity) if shape.is_aggregate() => format!("{name}/{arity}(aggregate)"),
        Some(arity) => format!("{name}/{arity}"),
    }
}

/// Versions of everything that decides behaviour: ours, the build flavour, SQLite, GDAL; whether
/// calls can be interrupted; the functions registered; the limits in force.
pub(crate) fn debug(session: &Session, functions: &[SqlFunction]) -> String {
    let flavour = if cfg!(feature = "loadable") { "loadable extension" } else { "linked" };
    let interrupts = if interrupt::available() { "yes" } else { "no (the host's SQLite is older than 3.41)" };
    let names: Vec<String> =
        functions.iter().flat_map(|f| f.shapes.iter().map(|shape| listed_name(f.name, shape))).collect();
    format!(
        "sen12lite {} ({flavour}, {})\nSQLite {}\nGDAL {}\ninterruptible: {interrupts}\nfunctions: {}\ntiles kept: {} ({} \
         bytes, this process)\n{}",
        version(),
        if cfg!(debug_assertions) { "debug" } else { "release" },
        rusqlite::version(),
        gdal::version::version_info("RELEASE_NAME"),
        names.join(" "),
        tile_store::shared().count(),
        tile_store::shared().bytes(),
        session.limits,
    )
    .trim_end()
    .to_string()
}
