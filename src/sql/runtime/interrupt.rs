//! Whether the host has interrupted the running statement (`sqlite3_interrupt`: Datasette's and
//! apsw's time limits, Ctrl-C in the shell). SQLite cannot stop a C function that is running, so
//! every function that reads pixels asks between reads and returns SQLITE_INTERRUPT itself.
//!
//! `sqlite3_is_interrupted` exists since SQLite 3.41. The loadable extension is built against
//! older headers (docs/sql.md, Hosts) so that it loads into older hosts: there the routine is
//! looked up at run time, in the slot that 3.41 appended to the API table (the table only grows,
//! so a slot keeps its index), and only when the host's SQLite is 3.41 or newer. On older hosts
//! nothing can be asked, and a call runs to its end.

use rusqlite::ffi;

#[cfg(feature = "loadable")]
mod routine {
    use super::*;
    use std::ffi::c_int;
    use std::sync::atomic::{AtomicPtr, Ordering};

    type IsInterrupted = unsafe extern "C" fn(*mut ffi::sqlite3) -> c_int;

    static IS_INTERRUPTED: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());

    /// The index of `is_interrupted` in SQLite's `sqlite3_api_routines` (3.41's sqlite3ext.h,
    /// counted from its first routine): the headers we are built with may predate it.
    const IS_INTERRUPTED_SLOT: usize = 266;

    /// Remembers the host's `sqlite3_is_interrupted`, when it has one.
    ///
    /// # Safety
    /// `api` is the API table SQLite passed to the extension's entry point.
    pub unsafe fn remember(api: *const ffi::sqlite3_api_routines) {
        // SAFETY: `api` is SQLite's API table or null.
        let Some(libversion_number) = unsafe { api.as_ref() }.and_then(|api| api.libversion_number) else { return };
        // SAFETY: a routine of the host's API table, taking no argument.
        let version = unsafe { libversion_number() };
        if version < 3_041_000 {
            return;
        }
        // SAFETY: the API table is an array of routine pointers, and a 3.41+ host's has the
        // `is_interrupted` slot at its index.
        let slot = unsafe { api.cast::<Option<IsInterrupted>>().add(IS_INTERRUPTED_SLOT) };
        // SAFETY: as above: the slot lies inside the host's table.
        if let Some(routine) = unsafe { *slot } {
            IS_INTERRUPTED.store(routine as *mut (), Ordering::Release);
        }
    }

    pub fn is_interrupted(db: *mut ffi::sqlite3) -> bool {
        let routine = IS_INTERRUPTED.load(Ordering::Acquire);
        if routine.is_null() {
            return false;
        }
        // SAFETY: the pointer was stored from the host's API table as an `IsInterrupted`; `db`
        // is the connection running the current call.
        unsafe { std::mem::transmute::<*mut (), IsInterrupted>(routine)(db) != 0 }
    }

    pub fn available() -> bool {
        !IS_INTERRUPTED.load(Ordering::Acquire).is_null()
    }
}

#[cfg(not(feature = "loadable"))]
mod routine {
    use super::*;

    pub fn is_interrupted(db: *mut ffi::sqlite3) -> bool {
        // SAFETY: `db` is the connection running the current call; the bundled SQLite is >= 3.41.
        unsafe { ffi::sqlite3_is_interrupted(db) != 0 }
    }

    pub fn available() -> bool {
        true
    }
}

pub use routine::*;

/// The error a function returns when it stopped for an interrupt: SQLITE_INTERRUPT with SQLite's
/// own message ("interrupted"), as if SQLite had stopped the statement itself.
pub fn interrupted() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_INTERRUPT), None)
}

/// `error` as the host must see it: an SQL statement of ours that SQLite itself stopped (a catalog
/// query inside a call, after the host's interrupt) carries SQLite's message, and rusqlite sets a
/// function's message after its code, which turns the code back into SQLITE_ERROR: such an error
/// becomes [`interrupted`], which has no message of its own.
pub fn as_reported(error: rusqlite::Error) -> rusqlite::Error {
    match &error {
        rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::OperationInterrupted => interrupted(),
        _ => error,
    }
}
