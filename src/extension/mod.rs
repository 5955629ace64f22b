//! The implementation's entry points (`make ext` builds it as
//! dist/sen12lite.libs/sen12lite_impl.so). Hosts load dist/sen12lite.so, the entry library of
//! `shim.c` beside this file, which loads this one privately and calls `sqlite3_senlite_init`.
//!
//! libgdal exports its own `sqlite3_extension_init`, and dlsym searches a library's dependencies:
//! we export that name ourselves too, so that a host loading this file directly still runs ours.

use rusqlite::ffi;
use rusqlite::Connection;
use std::os::raw::{c_char, c_int};

fn init(conn: Connection) -> rusqlite::Result<bool> {
    crate::sql::register(&conn)?;
    Ok(false)
}

/// # Safety
/// Called by SQLite with a valid connection and API table.
#[no_mangle]
pub unsafe extern "C" fn sqlite3_extension_init(
    db: *mut ffi::sqlite3,
    err: *mut *mut c_char,
    api: *mut ffi::sqlite3_api_routines,
) -> c_int {
    sqlite3_senlite_init(db, err, api)
}

/// # Safety
/// As `sqlite3_extension_init`; the name the entry library calls (and the one SQLite derives
/// from `sen12lite.so`: letters only, a leading `lib` dropped).
#[no_mangle]
pub unsafe extern "C" fn sqlite3_senlite_init(
    db: *mut ffi::sqlite3,
    err: *mut *mut c_char,
    api: *mut ffi::sqlite3_api_routines,
) -> c_int {
    crate::sql::remember_interrupt_routine(api);
    Connection::extension_init2(db, err, api, init)
}
