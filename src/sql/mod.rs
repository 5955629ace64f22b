//! The `s12_*` SQL functions, one file per function, and [`FUNCTIONS`], the one table of them that
//! `register` adds to a connection. Functions that read files are DIRECTONLY (no view or trigger
//! of a foreign database can call them); pure ones are DETERMINISTIC | INNOCUOUS.

mod functions;
pub mod reference;
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

/// One entry of [`FUNCTIONS`]: its name, access and shapes, and its doc entry, the file
/// `functions/{name}.md` beside the function's code (the name decides the file, so neither can
/// drift from the other).
macro_rules! function {
    ($name:literal, $access:expr, $($shape:expr),+ $(,)?) => {
        SqlFunction {
            name: $name,
            access: $access,
            doc: include_str!(concat!("functions/", $name, ".md")),
            shapes: &[$($shape),+],
        }
    };
}

/// Every `s12_` function and table: what `register` adds, what `s12_debug()` lists, what
/// `docs/sql.md` documents in this order (`reference`), what the tests hold the loaded extension's
/// `pragma_function_list` and `pragma_module_list` against.
pub const FUNCTIONS: &[SqlFunction] = &[
    function!("s12_version", Pure, scalar(0, |_, _| Ok(s12_version::version().into()))),
    function!("s12_debug", Pure, scalar(0, |_, session| Ok(s12_version::debug(session, FUNCTIONS).into()))),
    function!("s12_season", Pure, scalar(2, |ctx, _| Ok(s12_season::season(ctx)?.map(String::from).into()))),
    function!("s12_window", ReadsFiles, Shape::Blob { arity: 7, body: s12_window::window }),
    function!("s12_pixel", ReadsFiles, scalar(5, s12_pixel::pixel)),
    function!("s12_value", ReadsFiles, scalar(5, s12_value::value)),
    function!(
        "s12_stats",
        ReadsFiles,
        scalar(3, |ctx, session| s12_stats::stats(ctx, session).map(Value::from)),
        scalar(7, |ctx, session| s12_stats::stats(ctx, session).map(Value::from)),
    ),
    function!("s12_index", ReadsFiles, scalar(6, |ctx, session| s12_index::index_array(ctx, session).map(Value::from))),
    function!(
        "s12_index_mean",
        ReadsFiles,
        scalar(2, |ctx, session| s12_index::index_mean(ctx, session).map(Value::from)),
        scalar(6, |ctx, session| s12_index::index_mean(ctx, session).map(Value::from)),
    ),
    function!("s12_indices", Pure, table_function(table::register::<s12_indices::IndexList>)),
    function!("s12_legends", Pure, table_function(table::register::<s12_legends::LegendList>)),
    function!("s12_patches", ReadsFiles, table_function(table::register::<s12_patches::Patches>)),
    function!("s12_pixels", ReadsFiles, table_function(table::register::<s12_pixels::Pixels>)),
    function!("s12_nearest", ReadsCatalog, table_function(table::register::<s12_nearest::Nearest>)),
    function!("s12_intersecting", ReadsCatalog, table_function(table::register::<s12_intersecting::Intersecting>)),
    function!("s12_intersects", ReadsCatalog, scalar(2, |ctx, _| s12_intersects::intersects(ctx).map(Value::from))),
    function!("s12_timeseries", ReadsFiles, table_function(table::register::<s12_timeseries::TimeSeries>)),
    function!("s12_zonal", ReadsFiles, scalar(4, |ctx, session| s12_zonal::zonal(ctx, session).map(Value::from))),
    function!(
        "s12_band_summary",
        ReadsCatalog,
        aggregate(3, s12_band_summary::band_summary),
        aggregate(4, s12_band_summary::band_summary),
    ),
    function!("s12_normalization", ReadsCatalog, aggregate(3, s12_normalization::normalization)),
    function!("s12_batch", ReadsFiles, Shape::RowAggregate { arity: 7, add: s12_batch::register }),
    function!(
        "s12_png",
        ReadsFiles,
        scalar(2, |ctx, session| s12_png::kept(ctx, session).map(Value::from)),
        scalar(6, |ctx, session| s12_png::png(ctx, session).map(Value::from)),
    ),
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
        for shape in function.shapes {
            register_shape(conn, function, *shape, &session)?;
        }
    }
    Ok(())
}

/// One shape of `function` on `conn`.
fn register_shape(conn: &Connection, function: &SqlFunction, shape: Shape, session: &Arc<Session>) -> Result<()> {
    let flags = function.access.flags();
    match shape {
        Shape::Scalar { arity, body } => {
            let session = Arc::clone(session);
            conn.create_scalar_function(function.name, arity, flags, move |ctx| {
                body(ctx, &session).map_err(runtime::interrupt::as_reported)
            })
        }
        Shape::Blob { arity, body } => blob_result::register(conn, function.name, arity, flags, body, session),
        Shape::Aggregate { arity, body } => runtime::aggregate::register(conn, function.name, arity, flags, body),
        Shape::RowAggregate { arity, add } => add(conn, arity, flags, session),
        Shape::Table { add } => add(conn, session, function.access),
    }
}
