//! `s12_version()`, `s12_debug()`.

use crate::sql::runtime::interrupt;
use crate::sql::runtime::registry::{Shape, SqlFunction};
use crate::sql::runtime::session::Session;

/// This crate's version, `v` first.
pub(crate) fn version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

/// Versions of everything that decides behaviour: ours, the build flavour, SQLite, GDAL; whether
/// calls can be interrupted; the functions registered; the limits in force.
pub(crate) fn debug(session: &Session, functions: &[SqlFunction]) -> String {
    let flavour = if cfg!(feature = "loadable") { "loadable extension" } else { "linked" };
    let interrupts = if interrupt::available() { "yes" } else { "no (the host's SQLite is older than 3.41)" };
    let names: Vec<String> = functions
        .iter()
        .map(|f| match f.shape {
            Shape::Scalar { arity, .. } | Shape::Blob { arity, .. } => format!("{}/{arity}", f.name),
            Shape::Aggregate { arity, .. } | Shape::RowAggregate { arity, .. } => {
                format!("{}/{arity}(aggregate)", f.name)
            }
            Shape::Table { .. } => format!("{}(table)", f.name),
        })
        .collect();
    format!(
        "sen12lite {} ({flavour}, {})\nSQLite {}\nGDAL {}\ninterruptible: {interrupts}\nfunctions: {}\n{}",
        version(),
        if cfg!(debug_assertions) { "debug" } else { "release" },
        rusqlite::version(),
        gdal::version::version_info("RELEASE_NAME"),
        names.join(" "),
        session.limits,
    )
    .trim_end()
    .to_string()
}
