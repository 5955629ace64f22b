//! What SQLite says of a connection's statements, for what must outlive a call until its
//! statement is done (the statement budget in `session`, the loans in `loan`).

use rusqlite::ffi;
use std::ffi::c_int;

/// The statements of `db` that are running (stepped, not yet reset or done), with how many times
/// each started a run. Called inside a function call on `db`.
pub fn running_statements(db: *mut ffi::sqlite3) -> Vec<(usize, c_int)> {
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
