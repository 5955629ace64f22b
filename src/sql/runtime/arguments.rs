//! Reading a call's arguments: NULL gives None (and the function then returns NULL); a wrong type
//! or value is an error that names the function and the value ([`fail`]). Numbers may come as text
//! holding them, as web forms send them.

use crate::catalog::read::SceneRef;
use rusqlite::functions::Context;
use rusqlite::types::ValueRef;
use rusqlite::Error;

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

/// The error of `function` for a bad call: `s12_x: message`, as SQL shows it.
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

/// A REAL that holds an integer exactly: JavaScript clients (better-sqlite3, node:sqlite) bind
/// every number as one.
fn integral(r: f64) -> Option<i64> {
    (r.fract() == 0.0 && r.abs() < 9.0e15).then_some(r as i64)
}

/// A scene argument: a `scene_id` (an INTEGER, a REAL that holds one, or a TEXT of digits, as a web
/// form sends a number: no scene name is all digits) or a `name`.
pub fn scene(function: &str, ctx: &(impl Args + ?Sized), i: usize) -> rusqlite::Result<Option<SceneRef>> {
    match ctx.raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(id) => Ok(Some(SceneRef::Id(id))),
        ValueRef::Real(r) if integral(r).is_some() => Ok(integral(r).map(SceneRef::Id)),
        ValueRef::Text(t) => Ok(Some(scene_text(&String::from_utf8_lossy(t)))),
        other => Err(fail(function, format!("scene must be a scene_id or a name, got {}", describe(other)))),
    }
}

/// A scene given as text: its id when it is all digits, its name otherwise.
fn scene_text(text: &str) -> SceneRef {
    let digits = text.trim();
    match digits.bytes().all(|b| b.is_ascii_digit()).then(|| numeric_text(digits.as_bytes())).flatten() {
        Some(id) => SceneRef::Id(id),
        None => SceneRef::Name(text.to_string()),
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
        ValueRef::Real(r) if integral(r).is_some() => Ok(integral(r)),
        ValueRef::Text(t) if numeric_text::<i64>(t).is_some() => Ok(numeric_text(t)),
        other => Err(fail(function, format!("{what} must be an integer, got {}", describe(other)))),
    }
}

pub fn real(function: &str, ctx: &(impl Args + ?Sized), i: usize, what: &str) -> rusqlite::Result<Option<f64>> {
    match ctx.raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(v) => Ok(Some(v as f64)),
        ValueRef::Real(r) if r.is_finite() => Ok(Some(r)),
        ValueRef::Text(t) if numeric_text::<f64>(t).is_some_and(f64::is_finite) => Ok(numeric_text(t)),
        other => Err(fail(function, format!("{what} must be a finite number, got {}", describe(other)))),
    }
}

/// The number a text holds (`'64'`, `' -47.5 '`), as web forms send every value: Datasette's
/// canned-query forms pass their fields as text.
fn numeric_text<T: std::str::FromStr>(text: &[u8]) -> Option<T> {
    std::str::from_utf8(text).ok()?.trim().parse().ok()
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

/// The connection running the current call.
pub fn connection<'c>(ctx: &'c Context) -> rusqlite::Result<rusqlite::functions::ConnectionRef<'c>> {
    // SAFETY: the connection is only used inside this call, on SQLite's own thread.
    unsafe { ctx.get_connection() }
}

/// Bands as text (`'B4,B3,B2'`, `'*'`) or a 1-based number.
pub fn band_spec(function: &str, ctx: &(impl Args + ?Sized), i: usize) -> rusqlite::Result<Option<String>> {
    match ctx.raw(i) {
        ValueRef::Integer(n) => Ok(Some(n.to_string())),
        _ => text(function, ctx, i, "bands"),
    }
}
