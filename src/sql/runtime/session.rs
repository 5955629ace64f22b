//! What the `s12_` functions of one connection share: its open datasets, the operator's limits,
//! and where the running statement stands against them. The functions registered on the
//! connection own it, so SQLite drops it, and closes its datasets, when the connection closes
//! (each function's destroy callback) — never a thread-local or static destructor at exit, which
//! would call GDAL after a host such as `ogrinfo` has shut GDAL down.

use super::arguments::fail;
use super::error::{CallResult, Exceeded};
use super::interrupt;
use super::limits::Limits;
use super::loan::Loans;
use super::resolve::{self, Target};
use super::statements::running_statements;
use crate::catalog::read::SceneRef;
use crate::raster::cache::lock;
use crate::raster::cache::{DatasetCache, DatasetPool};
use crate::raster::strips::ReadGuard;
use crate::raster::tiles::RawTiles;
use crate::raster::RasterError;
use gdal::Dataset;
use rusqlite::{ffi, Connection};
use std::collections::HashMap;
use std::ffi::{c_int, OsString};
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub struct Session {
    pub limits: Limits,
    datasets: Mutex<DatasetCache>,
    /// The open datasets of the threads that read in parallel (`s12_batch`), one a file, kept
    /// between calls and closed with the connection, like `datasets`.
    pub reader_datasets: DatasetPool,
    /// The aggregate result lent to SQLite (`loan.rs`), if any.
    pub loans: Loans,
    statement: Mutex<StatementBudget>,
    resolved: Mutex<Resolved>,
}

/// Targets resolved on this connection, reused while the catalog and the operator's switches are
/// unchanged: resolving asks the catalog (a statement prepared afresh on every call, since a
/// function's connection handle keeps no statement cache) and resolves the path's symlinks, which
/// together cost more than reading a cached 256 px window.
#[derive(Default)]
struct Resolved {
    /// The catalog's data version and the switches the targets were resolved under.
    under: Option<(u32, [Option<OsString>; 4])>,
    targets: HashMap<(SceneRef, String), Arc<Target>>,
}

/// Targets kept at most; all are forgotten when there would be more.
const RESOLVED_KEPT: usize = 4096;

/// One execution of the statements running on the connection: what its `s12_` calls have read
/// and when the first of them started.
struct StatementBudget {
    /// The running statements and how often each has been run: a new execution, or another
    /// statement, gives another key.
    key: Vec<(usize, c_int)>,
    started: Instant,
    read_values: u64,
}

impl Session {
    /// A session with the limits of the environment (an error names a bad variable).
    pub fn from_env() -> Result<Arc<Session>, String> {
        let statement = StatementBudget { key: Vec::new(), started: Instant::now(), read_values: 0 };
        Ok(Arc::new(Session {
            limits: Limits::from_env()?,
            datasets: Mutex::default(),
            reader_datasets: DatasetPool::default(),
            loans: Loans::default(),
            statement: Mutex::new(statement),
            resolved: Mutex::default(),
        }))
    }

    /// `resolve::file`, remembered while the catalog (its data version, which any commit by any
    /// connection changes) and the operator's switches stay as they were, and the file's real path
    /// is still a file.
    pub fn file(
        &self,
        conn: &Connection,
        function: &str,
        scene: &SceneRef,
        modality: &str,
    ) -> rusqlite::Result<Arc<Target>> {
        let Some(version) = data_version(conn) else {
            return resolve::file(conn, function, scene, modality).map(Arc::new);
        };
        let under = Some((version, resolve::switches()));
        let key = (scene.clone(), modality.to_string());
        {
            let mut resolved = lock(&self.resolved);
            if resolved.under != under {
                resolved.targets.clear();
                resolved.under = under;
            }
            if let Some(target) = resolved.targets.get(&key).filter(|target| target.still_in_place()) {
                return Ok(target.clone());
            }
        }
        let target = Arc::new(resolve::file(conn, function, scene, modality)?);
        let mut resolved = lock(&self.resolved);
        if resolved.targets.len() >= RESOLVED_KEPT {
            resolved.targets.clear();
        }
        resolved.targets.insert(key, target.clone());
        Ok(target)
    }

    /// One call of `function` on `conn`; the first call of a statement starts its budget.
    pub fn call<'s>(&'s self, function: &'static str, conn: &Connection) -> Call<'s> {
        // SAFETY: the handle is only used while the call runs, on the connection's own thread.
        let db = unsafe { conn.handle() };
        let key = running_statements(db);
        self.loans.release_large(&key);
        let mut statement = lock(&self.statement);
        if statement.key != key {
            *statement = StatementBudget { key, started: Instant::now(), read_values: 0 };
        }
        Call { function, session: self, db, interrupted: false }
    }
}

/// The data version of the catalog as this connection sees it now: SQLITE_FCNTL_DATA_VERSION,
/// which changes with every commit to the file by any connection, this one included. The pager
/// learns of other connections' commits only when a read transaction starts, and a statement
/// such as `SELECT s12_window(...)` reads no table before the call, so `PRAGMA data_version` (a
/// cheap statement) starts one first. None when SQLite cannot say.
fn data_version(conn: &Connection) -> Option<u32> {
    conn.query_row("PRAGMA data_version", [], |_| Ok(())).ok()?;
    let mut version: u32 = 0;
    // SAFETY: called inside a function call on the connection; the file control writes one
    // unsigned int into `version`.
    let status = unsafe {
        ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_DATA_VERSION,
            (&raw mut version).cast(),
        )
    };
    (status == ffi::SQLITE_OK).then_some(version)
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
    fn before_read(&mut self, values: usize) -> Result<(), RasterError> {
        self.stop_if_asked()?;
        let mut statement = lock(&self.session.statement);
        statement.read_values = statement.read_values.saturating_add(values as u64);
        let read = statement.read_values;
        self.session
            .limits
            .read_values
            .check(read, |max| format!("the statement would read {read} values, over the limit of {max} values"))
            .map_err(RasterError::from)
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
        f: impl FnOnce(&Dataset, &mut dyn ReadGuard) -> CallResult<R>,
    ) -> rusqlite::Result<R> {
        let session = self.session;
        let result = lock(&session.datasets).with_dataset(&target.path, |dataset| f(dataset, self));
        result.map_err(|error| self.fail(target.relative_message(&error.to_string())))
    }

    /// As `with_dataset`, with the file's tiles when they are read without GDAL ([`RawTiles`]).
    pub fn with_tiles<R>(
        &mut self,
        target: &Target,
        f: impl FnOnce(&Dataset, Option<&mut RawTiles>, &mut dyn ReadGuard) -> CallResult<R>,
    ) -> rusqlite::Result<R> {
        let session = self.session;
        let result = lock(&session.datasets).with_tiles(&target.path, |dataset, tiles| f(dataset, tiles, self));
        result.map_err(|error| self.fail(target.relative_message(&error.to_string())))
    }

    /// As `with_dataset`, through the dataset the threads of `s12_batch` will read the file with
    /// (so a batch opens each of its files once).
    pub fn with_reader_dataset<R>(
        &mut self,
        target: &Target,
        f: impl FnOnce(&Dataset, &mut dyn ReadGuard) -> CallResult<R>,
    ) -> rusqlite::Result<R> {
        let shared = self.session.reader_datasets.dataset(&target.path);
        let result = lock(&shared).with_dataset(&target.path, |dataset| f(dataset, self));
        self.session.reader_datasets.release(shared);
        result.map_err(|error| self.fail(target.relative_message(&error.to_string())))
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

    fn stop_if_asked(&mut self) -> Result<(), RasterError> {
        match self.session.stop_reason(self.db) {
            Some(stop) => {
                self.interrupted = stop.is_interrupt();
                Err(stop.into())
            }
            None => Ok(()),
        }
    }
}

/// Why a running statement must stop.
pub enum Stop {
    /// The host called `sqlite3_interrupt`.
    Interrupted,
    /// It ran past SEN12LITE_MAX_STATEMENT_MS: the error says so.
    Limit(Exceeded),
}

impl Stop {
    /// Whether the host asked for the stop (not a limit).
    pub fn is_interrupt(&self) -> bool {
        matches!(self, Stop::Interrupted)
    }
}

impl From<Stop> for RasterError {
    /// The error that stops a read.
    fn from(stop: Stop) -> RasterError {
        match stop {
            Stop::Interrupted => RasterError::Stopped("interrupted".into()),
            Stop::Limit(exceeded) => exceeded.into(),
        }
    }
}

impl Session {
    /// Why the statement running on `db` must stop now, if it must. Safe from any thread while a
    /// call of that statement runs (`sqlite3_is_interrupted` only reads a flag).
    pub fn stop_reason(&self, db: *mut ffi::sqlite3) -> Option<Stop> {
        if interrupt::is_interrupted(db) {
            return Some(Stop::Interrupted);
        }
        let elapsed = lock(&self.statement).started.elapsed().as_millis() as u64;
        let limit = self.limits.statement_ms;
        limit
            .check(elapsed, |max| format!("the statement has run for {elapsed} ms, over the limit of {max} ms"))
            .err()
            .map(Stop::Limit)
    }
}
