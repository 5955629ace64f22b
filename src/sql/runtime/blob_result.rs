//! Functions whose result is a large BLOB (`s12_window`: 1.7 MB for a 256 px window of 13 bands;
//! the aggregate `s12_batch`: a whole training batch), registered through SQLite's own routine so
//! that the result is handed over without a copy. rusqlite's function API copies every BLOB
//! result (`SQLITE_TRANSIENT`); here GDAL writes the values into memory from `sqlite3_malloc64`,
//! and SQLite takes it as the result with `sqlite3_free` as its destructor (an aggregate's result
//! may be lent instead: `loan.rs`). The rest of a call is as rusqlite does it: arguments as
//! `ValueRef`s, panics caught, errors reported with their code and message.

use super::arguments::{fail, Args};
use super::session::Session;
use rusqlite::ffi;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Error, Result};
use std::ffi::{c_int, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

pub use super::sqlite_blob::SqliteBlob;

/// The arguments of a call as SQLite passes them.
pub struct RawArgs<'a>(&'a [*mut ffi::sqlite3_value]);

impl Args for RawArgs<'_> {
    fn raw(&self, i: usize) -> ValueRef<'_> {
        // SAFETY: SQLite's values for this call, valid while it runs; text and blob pointers are
        // read before their lengths, as SQLite asks, and a NULL pointer is an empty value.
        unsafe {
            let Some(&value) = self.0.get(i) else { return ValueRef::Null };
            let bytes = |data: *const u8| -> &[u8] {
                let len = ffi::sqlite3_value_bytes(value).max(0) as usize;
                if data.is_null() {
                    &[]
                } else {
                    std::slice::from_raw_parts(data, len)
                }
            };
            match ffi::sqlite3_value_type(value) {
                ffi::SQLITE_INTEGER => ValueRef::Integer(ffi::sqlite3_value_int64(value)),
                ffi::SQLITE_FLOAT => ValueRef::Real(ffi::sqlite3_value_double(value)),
                ffi::SQLITE_TEXT => ValueRef::Text(bytes(ffi::sqlite3_value_text(value))),
                ffi::SQLITE_BLOB => ValueRef::Blob(bytes(ffi::sqlite3_value_blob(value).cast())),
                _ => ValueRef::Null,
            }
        }
    }

    fn count(&self) -> usize {
        self.0.len()
    }
}

/// A BLOB function's body: the call's arguments, its connection and the session in; the BLOB
/// (or None for NULL) out.
pub type BlobBody = fn(&RawArgs, &Connection, &Session) -> Result<Option<SqliteBlob>>;

/// What SQLite keeps for one registered BLOB function.
struct BlobFunction {
    name: &'static str,
    body: BlobBody,
    session: Arc<Session>,
}

/// Registers the BLOB function `name` of `arity` arguments on `conn`.
pub fn register(
    conn: &Connection,
    name: &'static str,
    arity: i32,
    flags: FunctionFlags,
    body: BlobBody,
    session: &Arc<Session>,
) -> Result<()> {
    let function = Box::into_raw(Box::new(BlobFunction { name, body, session: Arc::clone(session) }));
    let callbacks = Callbacks { call: Some(call), step: None, finish: None, destroy: drop_function };
    // SAFETY: `function` is what `call` and `drop_function` take as user data.
    unsafe { create_function(conn, name, arity, flags, function.cast(), callbacks) }
}

/// SQLite's callbacks of a registered function: a scalar's `call`, or an aggregate's `step` and
/// `finish`, and the destructor of its user data.
struct Callbacks {
    call: Option<unsafe extern "C" fn(*mut ffi::sqlite3_context, c_int, *mut *mut ffi::sqlite3_value)>,
    step: Option<unsafe extern "C" fn(*mut ffi::sqlite3_context, c_int, *mut *mut ffi::sqlite3_value)>,
    finish: Option<unsafe extern "C" fn(*mut ffi::sqlite3_context)>,
    destroy: unsafe extern "C" fn(*mut c_void),
}

/// Registers `name` with SQLite's own routine; SQLite owns `user_data` from here and frees it with
/// `callbacks.destroy` when the function is replaced or the connection closes (also on failure).
///
/// # Safety
/// `user_data` is what the callbacks expect, and `destroy` frees it once.
unsafe fn create_function(
    conn: &Connection,
    name: &'static str,
    arity: i32,
    flags: FunctionFlags,
    user_data: *mut c_void,
    callbacks: Callbacks,
) -> Result<()> {
    let c_name = CString::new(name).expect("function names have no NUL");
    // SAFETY: the connection is open; the rest is the caller's promise.
    let code = unsafe {
        ffi::sqlite3_create_function_v2(
            conn.handle(),
            c_name.as_ptr(),
            arity,
            flags.bits(),
            user_data,
            callbacks.call,
            callbacks.step,
            callbacks.finish,
            Some(callbacks.destroy),
        )
    };
    if code == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(Error::SqliteFailure(ffi::Error::new(code), Some(format!("registering {name}"))))
    }
}

unsafe extern "C" fn drop_function(function: *mut c_void) {
    // SAFETY: the Box made in `register`, dropped once by SQLite.
    drop(unsafe { Box::from_raw(function.cast::<BlobFunction>()) });
}

/// SQLite's entry into a BLOB function: a panic becomes an SQL error naming it.
unsafe extern "C" fn call(ctx: *mut ffi::sqlite3_context, argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: the user data is the BlobFunction `register` gave; argv holds argc values.
    let (function, args) = unsafe {
        let args = if argc > 0 { std::slice::from_raw_parts(argv, argc as usize) } else { &[] };
        (&*ffi::sqlite3_user_data(ctx).cast::<BlobFunction>(), RawArgs(args))
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: a non-owning handle of the connection running this call, used inside it.
        let conn = unsafe { Connection::from_handle(ffi::sqlite3_context_db_handle(ctx)) }?;
        (function.body)(&args, &conn, &function.session)
    }))
    .unwrap_or_else(|_| Err(fail(function.name, "internal error (a bug: please report it)")));
    // SAFETY: setting the result of the running call.
    unsafe { set_blob_result(ctx, outcome) };
}

/// A call's outcome as its result: the BLOB handed over without a copy, NULL, or the error.
///
/// # Safety
/// `ctx` is the context of the running call.
unsafe fn set_blob_result(ctx: *mut ffi::sqlite3_context, outcome: Result<Option<SqliteBlob>>) {
    // SAFETY: setting the result of the running call.
    unsafe {
        match outcome {
            Ok(Some(blob)) => blob.give(ctx),
            Ok(None) => ffi::sqlite3_result_null(ctx),
            Err(error) => report_error(ctx, &error),
        }
    }
}

/// As rusqlite reports a function's error: SQLite's code for an SQLite failure (an interrupt
/// stays SQLITE_INTERRUPT), and the message. The message goes first: `sqlite3_result_error`
/// resets the code to SQLITE_ERROR, so a catalog query the host interrupted inside a call (its
/// error carries SQLite's "interrupted") would otherwise reach the host as a plain error.
unsafe fn report_error(ctx: *mut ffi::sqlite3_context, error: &Error) {
    let (code, message) = match error {
        Error::SqliteFailure(e, message) => (e.extended_code, message.clone()),
        other => (ffi::SQLITE_ERROR, Some(other.to_string())),
    };
    // SAFETY: setting the result of the running call; the message is copied by SQLite.
    unsafe {
        if let Some(text) = message.and_then(|m| CString::new(m.replace('\0', " ")).ok()) {
            ffi::sqlite3_result_error(ctx, text.as_ptr(), -1);
        }
        ffi::sqlite3_result_error_code(ctx, code);
    }
}

/// An aggregate whose result is a large BLOB: `step` adds a row to the group's state, `finish`
/// turns the state into the result.
pub struct BlobAggregate<S> {
    /// Its SQL name, for errors.
    pub name: &'static str,
    /// One row into the state.
    pub step: fn(&RawArgs, &Connection, &Session, &mut S) -> Result<()>,
    /// The group's result from its state (called only for a group with rows).
    pub finish: fn(&Connection, &Session, S) -> Result<Option<SqliteBlob>>,
}

/// What SQLite keeps for one registered BLOB aggregate.
struct AggregateFunction<S> {
    aggregate: BlobAggregate<S>,
    session: Arc<Session>,
}

/// Registers the BLOB aggregate `aggregate` of `arity` arguments on `conn`.
pub fn register_aggregate<S: Default + 'static>(
    conn: &Connection,
    arity: i32,
    flags: FunctionFlags,
    aggregate: BlobAggregate<S>,
    session: &Arc<Session>,
) -> Result<()> {
    let name = aggregate.name;
    let function = Box::into_raw(Box::new(AggregateFunction { aggregate, session: Arc::clone(session) }));
    let callbacks = Callbacks {
        call: None,
        step: Some(aggregate_step::<S>),
        finish: Some(aggregate_final::<S>),
        destroy: drop_aggregate::<S>,
    };
    // SAFETY: `function` is what the aggregate's callbacks and `drop_aggregate` take as user data.
    unsafe { create_function(conn, name, arity, flags, function.cast(), callbacks) }
}

unsafe extern "C" fn drop_aggregate<S>(function: *mut c_void) {
    // SAFETY: the Box made in `register_aggregate`, dropped once by SQLite.
    drop(unsafe { Box::from_raw(function.cast::<AggregateFunction<S>>()) });
}

/// The group's state: SQLite's aggregate context holds a pointer to it, made at the first row
/// (`create`) and taken back at the end. None when the group has no state (no row yet).
///
/// # Safety
/// `ctx` is the context of a running step or final call of an aggregate whose state is `S`.
unsafe fn group_state<S: Default>(ctx: *mut ffi::sqlite3_context, create: bool) -> Option<*mut *mut S> {
    let size = if create { std::mem::size_of::<*mut S>() as c_int } else { 0 };
    // SAFETY: SQLite's per-group memory, zeroed when first allocated: a null pointer then.
    let slot = unsafe { ffi::sqlite3_aggregate_context(ctx, size) }.cast::<*mut S>();
    if slot.is_null() {
        return None;
    }
    // SAFETY: the slot is SQLite's, aligned for a pointer, and only this aggregate writes it.
    if create && unsafe { (*slot).is_null() } {
        // SAFETY: as above.
        unsafe { *slot = Box::into_raw(Box::<S>::default()) };
    }
    Some(slot)
}

/// The aggregate's user data and the call's connection.
///
/// # Safety
/// `ctx` is the context of a running call of an aggregate registered by `register_aggregate::<S>`.
unsafe fn aggregate_of<'a, S>(ctx: *mut ffi::sqlite3_context) -> &'a AggregateFunction<S> {
    // SAFETY: the user data is the AggregateFunction `register_aggregate` gave.
    unsafe { &*ffi::sqlite3_user_data(ctx).cast::<AggregateFunction<S>>() }
}

unsafe extern "C" fn aggregate_step<S: Default>(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite calls this with its context and argc values.
    let (function, args) = unsafe {
        let args = if argc > 0 { std::slice::from_raw_parts(argv, argc as usize) } else { &[] };
        (aggregate_of::<S>(ctx), RawArgs(args))
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the running step's context.
        let Some(slot) = (unsafe { group_state::<S>(ctx, true) }) else {
            return Err(fail(function.aggregate.name, "out of memory for the group"));
        };
        // SAFETY: a non-owning handle of the connection running this call, used inside it.
        let conn = unsafe { Connection::from_handle(ffi::sqlite3_context_db_handle(ctx)) }?;
        // SAFETY: the state made for this group; SQLite runs its steps one at a time.
        let state = unsafe { &mut **slot };
        (function.aggregate.step)(&args, &conn, &function.session, state)
    }))
    .unwrap_or_else(|_| Err(fail(function.aggregate.name, "internal error (a bug: please report it)")));
    if let Err(error) = outcome {
        // SAFETY: setting the result of the running call.
        unsafe { report_error(ctx, &error) };
    }
}

/// The end of a group, also after a failed step or a reset (then its result is not used): the
/// state is always taken back and dropped.
unsafe extern "C" fn aggregate_final<S: Default>(ctx: *mut ffi::sqlite3_context) {
    // SAFETY: SQLite calls this with its context.
    let function = unsafe { aggregate_of::<S>(ctx) };
    // SAFETY: the final call's context; the state, if any, was made by `group_state`.
    let state = unsafe { group_state::<S>(ctx, false) }.and_then(|slot| {
        // SAFETY: as above; the slot is cleared so that nothing can take the state twice.
        let pointer = unsafe { std::mem::replace(&mut *slot, std::ptr::null_mut()) };
        // SAFETY: a Box made by `group_state`, taken back once.
        (!pointer.is_null()).then(|| unsafe { *Box::from_raw(pointer) })
    });
    let Some(state) = state else {
        // SAFETY: setting the result of the running call.
        unsafe { ffi::sqlite3_result_null(ctx) };
        return;
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: a non-owning handle of the connection running this call, used inside it.
        let conn = unsafe { Connection::from_handle(ffi::sqlite3_context_db_handle(ctx)) }?;
        (function.aggregate.finish)(&conn, &function.session, state)
    }))
    .unwrap_or_else(|_| Err(fail(function.aggregate.name, "internal error (a bug: please report it)")));
    // SAFETY: setting the result of the running final call, lent where SQLite would copy it.
    unsafe {
        match outcome {
            Ok(Some(blob)) => function.session.loans.set_result(ctx, blob),
            other => set_blob_result(ctx, other),
        }
    }
}
