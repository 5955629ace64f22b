//! The `s12_*` SQL functions, one file per function, and [`FUNCTIONS`], the one table of them that
//! `register` adds to a connection. Functions that read files are DIRECTONLY (no view or trigger
//! of a foreign database can call them); pure ones are DETERMINISTIC | INNOCUOUS.

mod aggregate;
mod band_summary;
mod blob_result;
mod index;
mod indices;
mod interrupt;
mod intersecting;
mod intersects;
mod limits;
mod nearest;
mod normalization;
mod patches;
mod pixel;
mod pixels;
mod png;
mod resolve;
mod season;
mod session;
mod stats;
mod table;
mod timeseries;
mod utils;
mod value;
mod version;
mod window;
mod zonal;

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::Value;
use rusqlite::{Connection, Result};
use session::Session;
use std::sync::Arc;

#[cfg(feature = "loadable")]
pub(crate) use interrupt::remember as remember_interrupt_routine;

/// What a function may touch, which decides its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Same output for the same input, harmless anywhere: DETERMINISTIC | INNOCUOUS.
    Pure,
    /// Reads the catalog but no file: harmless in a view (INNOCUOUS), but not DETERMINISTIC.
    ReadsCatalog,
    /// Reads files: DIRECTONLY, so no view or trigger of a database someone sent can call it.
    ReadsFiles,
}

impl Access {
    /// SQLite's flags for a function of this access: DIRECTONLY for file readers, DETERMINISTIC | INNOCUOUS for pure
    /// ones.
    pub fn flags(self) -> FunctionFlags {
        FunctionFlags::SQLITE_UTF8
            | match self {
                Access::Pure => FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS,
                Access::ReadsCatalog => FunctionFlags::SQLITE_INNOCUOUS,
                Access::ReadsFiles => FunctionFlags::SQLITE_DIRECTONLY,
            }
    }
}

/// A scalar function's body: the call's arguments and the connection's session in, a value out.
pub type ScalarBody = fn(&Context, &Session) -> Result<Value>;

/// How SQL calls a function.
#[derive(Clone, Copy)]
pub enum Shape {
    /// A scalar function of `arity` arguments.
    Scalar {
        /// Arguments it takes (a name registered twice takes either count).
        arity: i32,
        /// The code that computes it.
        body: ScalarBody,
    },
    /// A scalar function of `arity` arguments whose BLOB result SQLite takes without a copy.
    Blob {
        /// Arguments it takes.
        arity: i32,
        /// The code that computes it.
        body: blob_result::BlobBody,
    },
    /// An aggregate over scenes of `arity` arguments, the scene first (see `aggregate`).
    Aggregate {
        /// Arguments it takes (a name registered twice takes either count).
        arity: i32,
        /// The code that computes a group's answer from its scenes.
        body: aggregate::GroupBody,
    },
    /// A table function (an eponymous virtual table with hidden argument columns), added by `add`.
    Table {
        /// Registers the module on a connection.
        add: fn(&Connection, &Arc<Session>, Access) -> Result<()>,
    },
}

/// One `s12_` name as SQL sees it.
#[derive(Clone, Copy)]
pub struct SqlFunction {
    /// Its SQL name.
    pub name: &'static str,
    /// What it touches, which sets its flags.
    pub access: Access,
    /// Scalar or table, and its code.
    pub shape: Shape,
}

const fn scalar(name: &'static str, arity: i32, access: Access, body: ScalarBody) -> SqlFunction {
    SqlFunction { name, access, shape: Shape::Scalar { arity, body } }
}

const fn aggregate(name: &'static str, arity: i32, body: aggregate::GroupBody) -> SqlFunction {
    SqlFunction { name, access: Access::ReadsCatalog, shape: Shape::Aggregate { arity, body } }
}

const fn table_function(
    name: &'static str,
    access: Access,
    add: fn(&Connection, &Arc<Session>, Access) -> Result<()>,
) -> SqlFunction {
    SqlFunction { name, access, shape: Shape::Table { add } }
}

use Access::{Pure, ReadsCatalog, ReadsFiles};

/// Every `s12_` function and table: what `register` adds, what `s12_debug()` lists, what the tests
/// hold the loaded extension's `pragma_function_list` and `pragma_module_list` against.
pub const FUNCTIONS: &[SqlFunction] = &[
    scalar("s12_version", 0, Pure, |_, _| Ok(version::version().into())),
    scalar("s12_debug", 0, Pure, |_, session| Ok(version::debug(session).into())),
    scalar("s12_season", 2, Pure, |ctx, _| Ok(season::season(ctx)?.map(String::from).into())),
    SqlFunction { name: "s12_window", access: ReadsFiles, shape: Shape::Blob { arity: 7, body: window::window } },
    scalar("s12_pixel", 5, ReadsFiles, pixel::pixel),
    scalar("s12_value", 5, ReadsFiles, value::value),
    scalar("s12_stats", 3, ReadsFiles, |ctx, session| stats::stats(ctx, session).map(Value::from)),
    scalar("s12_stats", 7, ReadsFiles, |ctx, session| stats::stats(ctx, session).map(Value::from)),
    scalar("s12_index", 6, ReadsFiles, |ctx, session| index::index_array(ctx, session).map(Value::from)),
    scalar("s12_index_mean", 2, ReadsFiles, |ctx, session| index::index_mean(ctx, session).map(Value::from)),
    scalar("s12_index_mean", 6, ReadsFiles, |ctx, session| index::index_mean(ctx, session).map(Value::from)),
    scalar("s12_intersects", 2, ReadsCatalog, |ctx, _| intersects::intersects(ctx).map(Value::from)),
    scalar("s12_png", 6, ReadsFiles, |ctx, session| png::png(ctx, session).map(Value::from)),
    scalar("s12_zonal", 4, ReadsFiles, |ctx, session| zonal::zonal(ctx, session).map(Value::from)),
    aggregate("s12_band_summary", 3, band_summary::band_summary),
    aggregate("s12_band_summary", 4, band_summary::band_summary),
    aggregate("s12_normalization", 3, normalization::normalization),
    table_function("s12_indices", Pure, table::register::<indices::IndexList>),
    table_function("s12_patches", ReadsFiles, table::register::<patches::Patches>),
    table_function("s12_pixels", ReadsFiles, table::register::<pixels::Pixels>),
    table_function("s12_nearest", ReadsCatalog, table::register::<nearest::Nearest>),
    table_function("s12_intersecting", ReadsCatalog, table::register::<intersecting::Intersecting>),
    table_function("s12_timeseries", ReadsFiles, table::register::<timeseries::TimeSeries>),
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
    let session = Session::from_env().map_err(|e| utils::fail("sen12lite", e))?;
    let busy_timeout_ms: i64 = conn.query_row("PRAGMA busy_timeout", [], |r| r.get(0))?;
    if busy_timeout_ms == 0 {
        conn.busy_timeout(std::time::Duration::from_millis(DEFAULT_BUSY_TIMEOUT_MS))?;
    }
    for function in FUNCTIONS {
        match function.shape {
            Shape::Scalar { arity, body } => {
                let session = Arc::clone(&session);
                conn.create_scalar_function(function.name, arity, function.access.flags(), move |ctx| {
                    body(ctx, &session)
                })?
            }
            Shape::Blob { arity, body } => {
                blob_result::register(conn, function.name, arity, function.access.flags(), body, &session)?
            }
            Shape::Aggregate { arity, body } => {
                aggregate::register(conn, function.name, arity, function.access.flags(), body)?
            }
            Shape::Table { add } => add(conn, &session, function.access)?,
        }
    }
    Ok(())
}
