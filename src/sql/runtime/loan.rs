//! An aggregate's BLOB result lent to SQLite rather than given. SQLite copies an aggregate's
//! result into the row it outputs (`OP_Copy` duplicates a value it owns): for a training batch of
//! 27 MB that is one more copy, and its page faults, on the host's thread after the reading
//! threads are done. A value SQLite does not own (`SQLITE_STATIC`) is not copied, so the memory
//! stays the connection's and must outlive every statement that could still read it.
//!
//! A result is lent only while nothing else is (one loan per connection; a second result of the
//! same statement, another group, is given as before), whatever its size: a batch of 384 S2
//! patches (654 MB) held three times at once (SQLite's, its row's, Python's `bytes`) is what
//! makes a host run out of memory. It comes back once every statement that was running when it
//! was lent has been reset, has run to its end or is finalized: none of them can then read it,
//! and no other statement can hold it (SQLite copies a value it does not own when it binds it or
//! stores it). A loan that came back is the next result's buffer when that result is as large
//! (its pages are mapped already), else it is freed; one over [`MAX_KEPT_BYTES`] is freed by the
//! connection's next call of any function that reads files (`release_large`), a bound on memory
//! held between calls.

use super::sqlite_blob::SqliteBlob;
use super::statements::running_statements;
use crate::raster::cache::lock;
use rusqlite::{ffi, Result};
use std::ffi::c_int;
use std::sync::Mutex;

/// The largest loan kept for the next batch once SQLite is done with it: a batch of 32 S2
/// patches of 13 bands (256 px) is 54.5 MB.
pub const MAX_KEPT_BYTES: usize = 64 << 20;

/// The connection's result on loan to SQLite, if any.
#[derive(Default)]
pub struct Loans(Mutex<Option<Loan>>);

/// A result lent, and the statements that were running when it was (each with how many times it
/// had started a run then).
struct Loan {
    blob: SqliteBlob,
    statements: Vec<(usize, c_int)>,
}

impl Loans {
    /// `len` bytes for the next result of `function` on `db`: the loan's, if SQLite is done with
    /// it and it is `len` bytes; else new memory (a loan SQLite is done with is freed).
    pub fn buffer(&self, db: *mut ffi::sqlite3, function: &str, len: usize) -> Result<SqliteBlob> {
        let mut loan = lock(&self.0);
        if loan.as_ref().is_some_and(|loan| loan.returned(db)) {
            let blob = loan.take().expect("checked above").blob;
            if blob.len() == len {
                return Ok(blob);
            }
        }
        SqliteBlob::new(function, len)
    }

    /// Frees the loan if SQLite is done with it (no statement of `running`, the connection's
    /// running statements now, can read it) and it is over MAX_KEPT_BYTES.
    pub fn release_large(&self, running: &[(usize, c_int)]) {
        let mut loan = lock(&self.0);
        if loan.as_ref().is_some_and(|loan| loan.blob.len() > MAX_KEPT_BYTES && loan.returned_given(running)) {
            *loan = None;
        }
    }

    /// Sets `blob` (from `buffer`, which took back a loan SQLite was done with) as the result of
    /// the running call `ctx`: lent when nothing is on loan, else given to SQLite (which frees it).
    ///
    /// # Safety
    /// `ctx` is the context of a running aggregate's final call on this connection.
    pub unsafe fn set_result(&self, ctx: *mut ffi::sqlite3_context, blob: SqliteBlob) {
        let mut loan = lock(&self.0);
        if loan.is_some() {
            // SAFETY: the caller's promise.
            return unsafe { blob.give(ctx) };
        }
        // SAFETY: the result points into the loan's memory, which stays until every statement
        // running now (this one among them) is done with it (`returned`).
        unsafe { ffi::sqlite3_result_blob64(ctx, blob.as_ptr().cast(), blob.len() as u64, ffi::SQLITE_STATIC()) };
        // SAFETY: the running call's connection, held by SQLite while it runs.
        let statements = running_statements(unsafe { ffi::sqlite3_context_db_handle(ctx) });
        *loan = Some(Loan { blob, statements });
    }
}

impl Loan {
    /// Whether no statement that was running when it was lent can read it any more: each is
    /// finalized, not running, or started a new run since. Called inside a call on `db`.
    fn returned(&self, db: *mut ffi::sqlite3) -> bool {
        self.returned_given(&running_statements(db))
    }

    /// Whether none of the statements that were running when it was lent is among `running`.
    fn returned_given(&self, running: &[(usize, c_int)]) -> bool {
        // A statement finalized since may have left its address to a new one: then that one
        // keeps the loan out a while longer, which is safe.
        !self.statements.iter().any(|statement| running.contains(statement))
    }
}
