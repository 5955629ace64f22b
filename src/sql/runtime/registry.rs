//! What the registration table says of each `s12_` name: its access (which decides its flags) and
//! its shape (scalar, blob, aggregate or table), with the code SQLite calls.

use super::{aggregate, blob_result, session::Session};
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::Value;
use rusqlite::{Connection, Result};
use std::sync::Arc;

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
    /// An aggregate of `arity` arguments with a state of its own per group (`s12_batch`), added by
    /// `add` with the connection's session.
    RowAggregate {
        /// Arguments it takes.
        arity: i32,
        /// Registers it on a connection.
        add: fn(&Connection, i32, FunctionFlags, &Arc<Session>) -> Result<()>,
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

pub const fn scalar(name: &'static str, arity: i32, access: Access, body: ScalarBody) -> SqlFunction {
    SqlFunction { name, access, shape: Shape::Scalar { arity, body } }
}

pub const fn aggregate(name: &'static str, arity: i32, body: aggregate::GroupBody) -> SqlFunction {
    SqlFunction { name, access: Access::ReadsCatalog, shape: Shape::Aggregate { arity, body } }
}

pub const fn table_function(
    name: &'static str,
    access: Access,
    add: fn(&Connection, &Arc<Session>, Access) -> Result<()>,
) -> SqlFunction {
    SqlFunction { name, access, shape: Shape::Table { add } }
}
