//! The `s12_*` SQL functions, one file per function, and [`FUNCTIONS`], the one table of them that
//! `register` adds to a connection. Functions that read files are DIRECTONLY (no view or trigger
//! of a foreign database can call them); pure ones are DETERMINISTIC | INNOCUOUS.

mod functions;
mod runtime;

use functions::*;
use runtime::registry::{aggregate, scalar, table_function};
pub use runtime::registry::{Access, Shape, SqlFunction};
use runtime::session::Session;
use runtime::{blob_result, table};

use rusqlite::types::Value;
use rusqlite::{Connection, Result};
use std::sync::Arc;

#[cfg(feature = "loadable")]
pub(crate) use runtime::interrupt::remember as remember_interrupt_routine;

use Access::{Pure, ReadsCatalog, ReadsFiles};

/// Every `s12_` function and table: what `register` adds, what `s12_debug()` lists, what the tests
/// hold the loaded extension's `pragma_function_list` and `pragma_module_list` against.
pub const FUNCTIONS: &[SqlFunction] = &[
    scalar("s12_version", 0, Pure, |_, _| Ok(s12_version::version().into())),
    scalar("s12_debug", 0, Pure, |_, session| Ok(s12_version::debug(session, FUNCTIONS).into())),
    scalar("s12_season", 2, Pure, |ctx, _| Ok(s12_season::season(ctx)?.map(String::from).into())),
    SqlFunction { name: "s12_window", access: ReadsFiles, shape: Shape::Blob { arity: 7, body: s12_window::window } },
    scalar("s12_pixel", 5, ReadsFiles, s12_pixel::pixel),
    scalar("s12_value", 5, ReadsFiles, s12_value::value),
    scalar("s12_stats", 3, ReadsFiles, |ctx, session| s12_stats::stats(ctx, session).map(Value::from)),
    scalar("s12_stats", 7, ReadsFiles, |ctx, session| s12_stats::stats(ctx, session).map(Value::from)),
    scalar("s12_index", 6, ReadsFiles, |ctx, session| s12_index::index_array(ctx, session).map(Value::from)),
    scalar("s12_index_mean", 2, ReadsFiles, |ctx, session| s12_index::index_mean(ctx, session).map(Value::from)),
    scalar("s12_index_mean", 6, ReadsFiles, |ctx, session| s12_index::index_mean(ctx, session).map(Value::from)),
    scalar("s12_intersects", 2, ReadsCatalog, |ctx, _| s12_intersects::intersects(ctx).map(Value::from)),
    scalar("s12_png", 2, ReadsFiles, |ctx, session| s12_png::kept(ctx, session).map(Value::from)),
    scalar("s12_png", 6, ReadsFiles, |ctx, session| s12_png::png(ctx, session).map(Value::from)),
    scalar("s12_zonal", 4, ReadsFiles, |ctx, session| s12_zonal::zonal(ctx, session).map(Value::from)),
    aggregate("s12_band_summary", 3, s12_band_summary::band_summary),
    aggregate("s12_band_summary", 4, s12_band_summary::band_summary),
    aggregate("s12_normalization", 3, s12_normalization::normalization),
    SqlFunction {
        name: "s12_batch",
        access: ReadsFiles,
        shape: Shape::RowAggregate { arity: 7, add: s12_batch::register },
    },
    table_function("s12_indices", Pure, table::register::<s12_indices::IndexList>),
    table_function("s12_legends", Pure, table::register::<s12_legends::LegendList>),
    table_function("s12_patches", ReadsFiles, table::register::<s12_patches::Patches>),
    table_function("s12_pixels", ReadsFiles, table::register::<s12_pixels::Pixels>),
    table_function("s12_nearest", ReadsCatalog, table::register::<s12_nearest::Nearest>),
    table_function("s12_intersecting", ReadsCatalog, table::register::<s12_intersecting::Intersecting>),
    table_function("s12_timeseries", ReadsFiles, table::register::<s12_timeseries::TimeSeries>),
];

/// How long a connection without a busy timeout of its own waits for a writer (an ingest).
pub const DEFAULT_BUSY_TIMEOUT_MS: u64 = 5000;

/// Every function of [`FUNCTIONS`], registered on `conn`; a connection whose busy timeout is 0
/// (SQLite's default, the sqlite3 shell's) gets `DEFAULT_BUSY_TIMEOUT_MS`, because a catalog is
/// often read while an ingest commits to it and even WAL readers can then meet SQLITE_BUSY for a
/// moment (tests/python/test_concurrency.py). The functions share one `Session` (open datasets,
/// the limits of the environment), dropped when the connection closes; a bad `SEN12LITE_MAX_*`
/// variable makes registration fail with a message naming it.
pub fn register(conn: &Connection) -> Result<()> {
    let session = Session::from_env().map_err(|e| runtime::arguments::fail("sen12lite", e))?;
    let busy_timeout_ms: i64 = conn.query_row("PRAGMA busy_timeout", [], |r| r.get(0))?;
    if busy_timeout_ms == 0 {
        conn.busy_timeout(std::time::Duration::from_millis(DEFAULT_BUSY_TIMEOUT_MS))?;
    }
    for function in FUNCTIONS {
        match function.shape {
            Shape::Scalar { arity, body } => {
                let session = Arc::clone(&session);
                conn.create_scalar_function(function.name, arity, function.access.flags(), move |ctx| {
                    body(ctx, &session).map_err(runtime::interrupt::as_reported)
                })?
            }
            Shape::Blob { arity, body } => {
                blob_result::register(conn, function.name, arity, function.access.flags(), body, &session)?
            }
            Shape::Aggregate { arity, body } => {
                runtime::aggregate::register(conn, function.name, arity, function.access.flags(), body)?
            }
            Shape::RowAggregate { arity, add } => add(conn, arity, function.access.flags(), &session)?,
            Shape::Table { add } => add(conn, &session, function.access)?,
        }
    }
    Ok(())
}
