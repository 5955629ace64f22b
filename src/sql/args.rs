//! Reading SQL arguments: NULL gives None (the function then returns NULL), a wrong type or value
//! an error that names the function and the value.

use rusqlite::functions::Context;
use rusqlite::types::ValueRef;
use rusqlite::Error;

pub use crate::catalog::read::SceneRef;

/// The arguments of a call: a scalar function's context or a table function's hidden columns.
pub trait Args {
    fn raw(&self, i: usize) -> ValueRef<'_>;
    fn count(&self) -> usize;
}

impl Args for Context<'_> {
    fn raw(&self, i: usize) -> ValueRef<'_> {
        self.get_raw(i)
    }
    fn count(&self) -> usize {
        self.len()
    }
}

impl Args for [rusqlite::types::Value] {
    fn raw(&self, i: usize) -> ValueRef<'_> {
        self.get(i).map_or(ValueRef::Null, ValueRef::from)
    }
    fn count(&self) -> usize {
        self.len()
    }
}

pub fn fail(function: &str, message: impl std::fmt::Display) -> Error {
    Error::UserFunctionError(format!("{function}: {message}").into())
}

/// A short, safe rendering of an SQL value for error messages.
pub fn describe(value: ValueRef) -> String {
    match value {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(&t[..t.len().min(60)])),
        ValueRef::Blob(b) => format!("a {}-byte blob", b.len()),
    }
}

pub fn scene(function: &str, ctx: &(impl Args + ?Sized), i: usize) -> rusqlite::Result<Option<SceneRef>> {
    match ctx.raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(id) => Ok(Some(SceneRef::Id(id))),
        ValueRef::Text(t) => Ok(Some(SceneRef::Name(String::from_utf8_lossy(t).into_owned()))),
        other => Err(fail(function, format!("scene must be a scene_id or a name, got {}", describe(other)))),
    }
}

pub fn text(function: &str, ctx: &(impl Args + ?Sized), i: usize, what: &str) -> rusqlite::Result<Option<String>> {
    match ctx.raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) => Ok(Some(String::from_utf8_lossy(t).into_owned())),
        other => Err(fail(function, format!("{what} must be text, got {}", describe(other)))),
    }
}

pub fn integer(function: &str, ctx: &(impl Args + ?Sized), i: usize, what: &str) -> rusqlite::Result<Option<i64>> {
    match ctx.raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(v) => Ok(Some(v)),
        ValueRef::Real(r) if r.fract() == 0.0 && r.abs() < 9.0e15 => Ok(Some(r as i64)),
        other => Err(fail(function, format!("{what} must be an integer, got {}", describe(other)))),
    }
}

pub fn real(function: &str, ctx: &(impl Args + ?Sized), i: usize, what: &str) -> rusqlite::Result<Option<f64>> {
    match ctx.raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(v) => Ok(Some(v as f64)),
        ValueRef::Real(r) if r.is_finite() => Ok(Some(r)),
        other => Err(fail(function, format!("{what} must be a finite number, got {}", describe(other)))),
    }
}

/// Four integers `col, row, width, height` from argument `start`; None if any is NULL.
pub fn window(function: &str, ctx: &(impl Args + ?Sized), start: usize) -> rusqlite::Result<Option<[i64; 4]>> {
    let mut out = [0i64; 4];
    for (k, what) in ["col", "row", "width", "height"].iter().enumerate() {
        match integer(function, ctx, start + k, what)? {
            Some(v) => out[k] = v,
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// The optional trailing window of a function that also works on the whole raster:
/// `Some(None)` when the call has no window arguments, `None` when one of them is NULL.
pub fn optional_window(
    function: &str,
    ctx: &(impl Args + ?Sized),
    start: usize,
) -> rusqlite::Result<Option<Option<[i64; 4]>>> {
    if ctx.count() < start + 4 {
        return Ok(Some(None));
    }
    Ok(window(function, ctx, start)?.map(Some))
}
