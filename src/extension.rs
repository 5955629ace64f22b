//! The loadable extension's entry points (`make ext` builds dist/sen12lite.so).
//!
//! libgdal exports its own `sqlite3_extension_init`, and dlsym searches a library's dependencies:
//! we export that name ourselves, and the one SQLite derives from the file name, so `.load` runs
//! ours whatever the file is called (docs: extension-pitfalls 3).

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
pub unsafe extern "C" fn sqlite3_extension_init(db: *mut ffi::sqlite3, err: *mut *mut c_char, api: *mut ffi::sqlite3_api_routines) -> c_int {
    Connection::extension_init2(db, err, api, init)
}

/// # Safety
/// As `sqlite3_extension_init`; the name SQLite derives from `sen12lite.so` and
/// `libsen12lite.so` (letters only, a leading `lib` dropped).
#[no_mangle]
pub unsafe extern "C" fn sqlite3_senlite_init(db: *mut ffi::sqlite3, err: *mut *mut c_char, api: *mut ffi::sqlite3_api_routines) -> c_int {
    Connection::extension_init2(db, err, api, init)
}
