//! [`SqliteBlob`]: memory from SQLite's allocator that a call hands to SQLite as its BLOB result
//! without a copy (`blob_result`), or lends (`loan`).

use super::arguments::fail;
use rusqlite::{ffi, Result};
use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::ptr::NonNull;

/// Memory from SQLite's allocator that becomes a BLOB result as it is; freed if it never does.
pub struct SqliteBlob {
    data: NonNull<u8>,
    len: usize,
}

impl SqliteBlob {
    /// `len` bytes, not yet written (SQLite's allocator aligns to 8 bytes).
    pub fn new(function: &str, len: usize) -> Result<SqliteBlob> {
        // SAFETY: a plain allocation; a NULL answer (no memory, or len 0) is checked.
        let data = unsafe { ffi::sqlite3_malloc64(len as ffi::sqlite3_uint64) }.cast::<u8>();
        let data = NonNull::new(data).ok_or_else(|| fail(function, format!("out of memory for {len} bytes")))?;
        Ok(SqliteBlob { data, len })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn as_ptr(&self) -> *const u8 {
        self.data.as_ptr()
    }

    /// Sets it as the result of the running call `ctx`, given to SQLite (which frees it).
    ///
    /// # Safety
    /// `ctx` is the context of a running call.
    pub unsafe fn give(self, ctx: *mut ffi::sqlite3_context) {
        let (data, len) = (self.data.as_ptr(), self.len);
        std::mem::forget(self);
        // SAFETY: memory from sqlite3_malloc64, which SQLite frees with `free_blob`.
        unsafe { ffi::sqlite3_result_blob64(ctx, data.cast(), len as ffi::sqlite3_uint64, Some(free_blob)) };
    }

    /// The bytes, for a writer that fills every one of them.
    pub fn uninit(&mut self) -> &mut [MaybeUninit<u8>] {
        // SAFETY: `len` bytes allocated above, owned by this value.
        unsafe { std::slice::from_raw_parts_mut(self.data.as_ptr().cast(), self.len) }
    }
}

// SAFETY: it owns its memory as a Vec does; a connection's loan (`loan.rs`) is kept by a session
// that several threads share.
unsafe impl Send for SqliteBlob {}

impl Drop for SqliteBlob {
    fn drop(&mut self) {
        // SAFETY: allocated by sqlite3_malloc64 and not handed over (`give` forgets self).
        unsafe { ffi::sqlite3_free(self.data.as_ptr().cast()) }
    }
}

/// SQLite's destructor for a result from `SqliteBlob`.
unsafe extern "C" fn free_blob(data: *mut c_void) {
    // SAFETY: SQLite calls it once, with the pointer sqlite3_malloc64 gave.
    unsafe { ffi::sqlite3_free(data) }
}
