//! What the `s12_` functions of one connection share: its open datasets and the operator's
//! limits. The functions registered on the connection own it, so SQLite drops it, and closes its
//! datasets, when the connection closes (each function's destroy callback) — never a thread-local
//! or static destructor at exit, which would call GDAL after a host such as `ogrinfo` has shut
//! GDAL down.

use super::args::fail;
use super::interrupt;
use super::limits::Limits;
use super::resolve::Target;
use crate::raster::cache::DatasetCache;
use crate::raster::strips::ReadGuard;
use gdal::Dataset;
use rusqlite::{ffi, Connection};
use std::sync::{Arc, Mutex, PoisonError};

pub struct Session {
    pub limits: Limits,
    datasets: Mutex<DatasetCache>,
}

impl Session {
    /// A session with the limits of the environment (an error names a bad variable).
    pub fn from_env() -> Result<Arc<Session>, String> {
        Ok(Arc::new(Session { limits: Limits::from_env()?, datasets: Mutex::default() }))
    }

    /// One call of `function` on `conn`.
    pub fn call<'s>(&'s self, function: &'static str, conn: &Connection) -> Call<'s> {
        // SAFETY: the handle is only compared and passed to sqlite3_is_interrupted while the call
        // runs, on the connection's own thread.
        let db = unsafe { conn.handle() };
        Call { function, session: self, db, read_values: 0, interrupted: false }
    }
}

/// One running call of a function that reads files: where it stands against the per-call read
/// limit and whether the host interrupted it. Raster reads ask it before each strip or chunk.
pub struct Call<'s> {
    pub function: &'static str,
    session: &'s Session,
    db: *mut ffi::sqlite3,
    read_values: u64,
    interrupted: bool,
}

impl ReadGuard for Call<'_> {
    fn before_read(&mut self, values: usize) -> Result<(), String> {
        if interrupt::is_interrupted(self.db) {
            self.interrupted = true;
            return Err("interrupted".into());
        }
        self.read_values = self.read_values.saturating_add(values as u64);
        let read = self.read_values;
        self.session.limits.read_values.check(read, |max| format!("the call would read {read} values, over the limit of {max} values a call"))
    }
}

impl Call<'_> {
    pub fn limits(&self) -> &Limits {
        &self.session.limits
    }

    /// Runs `f` on the open dataset of `target`, with this call as the guard of its reads. An
    /// error names the function and paths relative to data_root; an interrupt is SQLITE_INTERRUPT.
    pub fn with_dataset<R>(&mut self, target: &Target, f: impl FnOnce(&Dataset, &mut dyn ReadGuard) -> Result<R, String>) -> rusqlite::Result<R> {
        let session = self.session;
        let mut datasets = session.datasets.lock().unwrap_or_else(PoisonError::into_inner);
        let result = datasets.with_dataset(&target.path, |dataset| f(dataset, self));
        drop(datasets);
        result.map_err(|message| self.fail(target.relative_message(&message)))
    }

    /// The error of this call: SQLITE_INTERRUPT after an interrupt, else `message` with the
    /// function's name.
    pub fn fail(&self, message: impl std::fmt::Display) -> rusqlite::Error {
        if self.interrupted {
            interrupt::interrupted()
        } else {
            fail(self.function, message)
        }
    }

    /// Ok unless the host has interrupted the statement: for work between reads (encoding, sorting).
    pub fn check_interrupt(&mut self) -> rusqlite::Result<()> {
        if interrupt::is_interrupted(self.db) {
            self.interrupted = true;
            return Err(interrupt::interrupted());
        }
        Ok(())
    }
}
