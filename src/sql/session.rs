//! What the `s12_` functions of one connection share: its open datasets, the operator's limits,
//! and where the running statement stands against them. The functions registered on the
//! connection own it, so SQLite drops it, and closes its datasets, when the connection closes
//! (each function's destroy callback) — never a thread-local or static destructor at exit, which
//! would call GDAL after a host such as `ogrinfo` has shut GDAL down.

use super::interrupt;
use super::limits::Limits;
use super::resolve::Target;
use super::utils::fail;
use crate::raster::cache::DatasetCache;
use crate::raster::strips::ReadGuard;
use gdal::Dataset;
use rusqlite::{ffi, Connection};
use std::ffi::c_int;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

pub struct Session {
    pub limits: Limits,
    datasets: Mutex<DatasetCache>,
    statement: Mutex<StatementBudget>,
}

/// One execution of the statements running on the connection: what its `s12_` calls have read
/// and when the first of them started.
struct StatementBudget {
    /// The running statements and how often each has been run: a new execution, or another
    /// statement, gives another key.
    key: Vec<(usize, c_int)>,
    started: Instant,
    read_values: u64,
}

/// The mutex's value; a panic that poisoned it (caught by rusqlite or the table guard) left
/// nothing half-changed that a later call could trip on.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Session {
    /// A session with the limits of the environment (an error names a bad variable).
    pub fn from_env() -> Result<Arc<Session>, String> {
        let statement = StatementBudget { key: Vec::new(), started: Instant::now(), read_values: 0 };
        Ok(Arc::new(Session {
            limits: Limits::from_env()?,
            datasets: Mutex::default(),
            statement: Mutex::new(statement),
        }))
    }

    /// One call of `function` on `conn`; the first call of a statement starts its budget.
    pub fn call<'s>(&'s self, function: &'static str, conn: &Connection) -> Call<'s> {
        // SAFETY: the handle is only used while the call runs, on the connection's own thread.
        let db = unsafe { conn.handle() };
        let key = running_statements(db);
        let mut statement = lock(&self.statement);
        if statement.key != key {
            *statement = StatementBudget { key, started: Instant::now(), read_values: 0 };
        }
        Call { function, session: self, db, interrupted: false }
    }
}

/// The statements of `db` that are running, with their run counters.
fn running_statements(db: *mut ffi::sqlite3) -> Vec<(usize, c_int)> {
    let mut running = Vec::new();
    // SAFETY: called inside a function call on `db`, whose mutex SQLite holds for this thread;
    // the statements are only inspected.
    unsafe {
        let mut statement = ffi::sqlite3_next_stmt(db, std::ptr::null_mut());
        while !statement.is_null() {
            if ffi::sqlite3_stmt_busy(statement) != 0 {
                running.push((statement as usize, ffi::sqlite3_stmt_status(statement, ffi::SQLITE_STMTSTATUS_RUN, 0)));
            }
            statement = ffi::sqlite3_next_stmt(db, statement);
        }
    }
    running
}

/// One running call of a function that reads files. Raster reads ask it before each strip or
/// chunk: it stops them when the host interrupted the statement, when the statement has run past
/// its time limit, or when the statement's reads would pass the read limit.
pub struct Call<'s> {
    pub function: &'static str,
    session: &'s Session,
    db: *mut ffi::sqlite3,
    interrupted: bool,
}

impl ReadGuard for Call<'_> {
    fn before_read(&mut self, values: usize) -> Result<(), String> {
        self.stop_if_asked()?;
        let mut statement = lock(&self.session.statement);
        statement.read_values = statement.read_values.saturating_add(values as u64);
        let read = statement.read_values;
        self.session
            .limits
            .read_values
            .check(read, |max| format!("the statement would read {read} values, over the limit of {max} values"))
    }
}

impl Call<'_> {
    pub fn limits(&self) -> &Limits {
        &self.session.limits
    }

    /// Runs `f` on the open dataset of `target`, with this call as the guard of its reads. An
    /// error names the function and paths relative to data_root; an interrupt is SQLITE_INTERRUPT.
    pub fn with_dataset<R>(
        &mut self,
        target: &Target,
        f: impl FnOnce(&Dataset, &mut dyn ReadGuard) -> Result<R, String>,
    ) -> rusqlite::Result<R> {
        let session = self.session;
        let mut datasets = lock(&session.datasets);
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

    /// Ok unless the statement was interrupted or ran out of time: for work between reads.
    pub fn check_stop(&mut self) -> rusqlite::Result<()> {
        self.stop_if_asked().map_err(|message| self.fail(message))
    }

    fn stop_if_asked(&mut self) -> Result<(), String> {
        if interrupt::is_interrupted(self.db) {
            self.interrupted = true;
            return Err("interrupted".into());
        }
        let elapsed = lock(&self.session.statement).started.elapsed().as_millis() as u64;
        self.session
            .limits
            .statement_ms
            .check(elapsed, |max| format!("the statement has run for {elapsed} ms, over the limit of {max} ms"))
    }
}
