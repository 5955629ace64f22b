//! The implementation's entry points (`make ext` builds it as
//! dist/sen12lite.libs/sen12lite_impl.so). Hosts load dist/sen12lite.so, the entry library of
//! `shim.c` beside this file, which loads this one privately and calls `sqlite3_senlite_init`.
//!
//! libgdal exports its own `sqlite3_extension_init`, and dlsym searches a library's dependencies:
//! we export that name ourselves too, so that a host loading this file directly still runs ours.

use rusqlite::ffi;
use rusqlite::Connection;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};
use std::path::PathBuf;
use std::sync::Once;

/// This library's own path (from the Python wheel, its data is found beside it).
fn own_path() -> Option<PathBuf> {
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: dladdr fills `info` for an address inside this library; dli_fname then points at
    // the loader's copy of the name, valid while the library is loaded.
    unsafe {
        if libc::dladdr(own_path as *const libc::c_void, info.as_mut_ptr()) == 0
            || info.assume_init_ref().dli_fname.is_null()
        {
            return None;
        }
        let name = CStr::from_ptr(info.assume_init_ref().dli_fname);
        std::fs::canonicalize(std::ffi::OsStr::from_encoded_bytes_unchecked(name.to_bytes())).ok()
    }
}

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
    static BUNDLED_DATA: Once = Once::new();
    BUNDLED_DATA.call_once(|| own_path().iter().for_each(|path| crate::raster::bundled::use_bundled_data(path)));
    crate::sql::remember_interrupt_routine(api);
    Connection::extension_init2(db, err, api, init)
}
