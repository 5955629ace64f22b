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

impl Shape {
    /// The arguments it takes; None for a table function (its hidden columns take them).
    pub fn arity(&self) -> Option<i32> {
        match *self {
            Shape::Scalar { arity, .. }
            | Shape::Blob { arity, .. }
            | Shape::Aggregate { arity, .. }
            | Shape::RowAggregate { arity, .. } => Some(arity),
            Shape::Table { .. } => None,
        }
    }

    /// Whether SQL calls it over the rows of a group.
    pub fn is_aggregate(&self) -> bool {
        matches!(self, Shape::Aggregate { .. } | Shape::RowAggregate { .. })
    }
}

/// One `s12_` name as SQL sees it, with its entry in `docs/sql.md`.
#[derive(Clone, Copy)]
pub struct SqlFunction {
    /// Its SQL name.
    pub name: &'static str,
    /// What it touches, which sets its flags.
    pub access: Access,
    /// Its entry in `docs/sql.md` below the heading (`functions/{name}.md`): the signature, what it
    /// does, an example with its output and a call that fails with its error.
    pub doc: &'static str,
    /// How SQL calls it: one shape per argument count (a table function has one).
    pub shapes: &'static [Shape],
}

pub const fn scalar(arity: i32, body: ScalarBody) -> Shape {
    Shape::Scalar { arity, body }
}

pub const fn aggregate(arity: i32, body: aggregate::GroupBody) -> Shape {
    Shape::Aggregate { arity, body }
}

pub const fn table_function(add: fn(&Connection, &Arc<Session>, Access) -> Result<()>) -> Shape {
    Shape::Table { add }
}
