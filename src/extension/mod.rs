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
    // SAFETY: the caller's guarantees, passed on unchanged.
    unsafe { sqlite3_senlite_init(db, err, api) }
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
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Panics are caught and answered as SQL errors; the default hook would also print them,
        // with this build's source paths, on the host's stderr.
        std::panic::set_hook(Box::new(|_| {}));
        own_path().iter().for_each(|path| crate::raster::bundled::use_bundled_data(path));
    });
    // SAFETY: SQLite hands a valid API table, or none.
    let Some(routines) = (unsafe { api.as_ref() }) else { return ffi::SQLITE_ERROR };
    if let Err(message) = supported(routines) {
        // SAFETY: as above; `err` is SQLite's message slot.
        return unsafe { refuse(routines, err, &message) };
    }
    // Nothing may unwind into the host: the entry point is called from C.
    let load = std::panic::AssertUnwindSafe(|| {
        // SAFETY: as above; the host's SQLite is recent enough for the routines we bind.
        unsafe {
            crate::sql::remember_interrupt_routine(api);
            Connection::extension_init2(db, err, api, init)
        }
    });
    std::panic::catch_unwind(load).unwrap_or_else(|_| {
        // SAFETY: as above.
        unsafe { refuse(routines, err, "sen12lite: internal error while loading") }
    })
}

/// Ok when the host's SQLite is at least the one our bindings were generated from: rusqlite would
/// otherwise call routines missing from its API table (an abort, not an error).
fn supported(routines: &ffi::sqlite3_api_routines) -> Result<(), String> {
    let Some(libversion_number) = routines.libversion_number else {
        return Err("sen12lite: the host's SQLite API table has no libversion_number".into());
    };
    // SAFETY: a routine of the host's API table, taking no argument.
    let host = unsafe { libversion_number() };
    if host >= ffi::SQLITE_VERSION_NUMBER {
        return Ok(());
    }
    let floor = ffi::SQLITE_VERSION.to_string_lossy();
    Err(format!(
        "sen12lite: this SQLite is {}.{}.{}, older than {floor}, the oldest sen12lite supports; load it into a newer \
         SQLite (the sen12lite wheel's connect() brings one)",
        host / 1_000_000,
        host / 1000 % 1000,
        host % 1000
    ))
}

/// Sets SQLite's error message through the host's own allocator (rusqlite's may not be set up
/// yet) and returns SQLITE_ERROR.
///
/// # Safety
/// `routines` is the host's API table and `err` SQLite's message slot (or null).
unsafe fn refuse(routines: &ffi::sqlite3_api_routines, err: *mut *mut c_char, message: &str) -> c_int {
    if let (Some(malloc), false) = (routines.malloc, err.is_null()) {
        let Ok(length) = c_int::try_from(message.len() + 1) else { return ffi::SQLITE_ERROR };
        // SAFETY: SQLite frees the message with its own free, so it comes from its malloc; the
        // copy fits the allocation and ends with a NUL.
        unsafe {
            let copy = malloc(length).cast::<u8>();
            if !copy.is_null() {
                std::ptr::copy_nonoverlapping(message.as_ptr(), copy, message.len());
                *copy.add(message.len()) = 0;
                *err = copy.cast();
            }
        }
    }
    ffi::SQLITE_ERROR
}
