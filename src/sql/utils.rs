//! The SQL plumbing every function file shares (its feature files never import each other):
//! reading arguments (NULL gives None, and the function then returns NULL; a wrong type or value
//! is an error that names the function and the value), the call's connection, windows checked
//! against the raster and the limits, index lookup, one pixel as an SQL value.

use super::limits::Limit;
use super::resolve::Target;
use crate::raster::indices::{find_index, IndexDef, INDICES};
use crate::raster::open::{gdal_message, lonlat_srs};
use crate::raster::optical::cloud_band;
use crate::raster::stats::{is_nodata, BandStats};
use crate::raster::strips::{ReadGuard, Window};
use gdal::spatial_ref::CoordTransform;
use gdal::{Dataset, GeoTransformEx};
use rusqlite::functions::Context;
use rusqlite::types::{Value, ValueRef};
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

/// A window inside the raster and under the size limit, checked before any read or allocation.
pub fn checked_window(
    [col, row, width, height]: [i64; 4],
    raster: (usize, usize),
    bands: usize,
    limit: Limit,
) -> Result<Window, String> {
    let (raster_w, raster_h) = (raster.0 as i64, raster.1 as i64);
    if width < 1 || height < 1 {
        return Err(format!("window size must be positive, got {width} x {height}"));
    }
    let values = width.saturating_mul(height).saturating_mul(bands as i64);
    limit.check(values as u64, |max| {
        format!("window of {width} x {height} px x {bands} bands is over the limit of {max} values")
    })?;
    if col < 0 || row < 0 || col.saturating_add(width) > raster_w || row.saturating_add(height) > raster_h {
        return Err(format!(
            "window at col {col}, row {row} of {width} x {height} px is outside the raster ({raster_w} x {raster_h} px)"
        ));
    }
    Ok(Window { col: col as usize, row: row as usize, width: width as usize, height: height as usize })
}

pub fn window_of(dataset: &Dataset, requested: Option<[i64; 4]>, bands: usize, limit: Limit) -> Result<Window, String> {
    let (w, h) = dataset.raster_size();
    requested.map_or(Ok(Window::whole(w, h)), |r| checked_window(r, (w, h), bands, limit))
}

pub fn index_def(function: &str, name: &str) -> rusqlite::Result<&'static IndexDef> {
    find_index(name).ok_or_else(|| {
        let known: Vec<&str> = INDICES.iter().map(|d| d.name).collect();
        fail(
            function,
            format!("unknown index '{}' (known: {})", name.chars().take(40).collect::<String>(), known.join(", ")),
        )
    })
}

/// The value of one pixel as SQL (NULL at nodata, an integer for integer bands), after checking
/// that the pixel is inside the raster.
pub fn read_value(
    dataset: &gdal::Dataset,
    band: usize,
    [col, row]: [i64; 2],
    limit: Limit,
    guard: &mut dyn ReadGuard,
) -> Result<Value, String> {
    let window = checked_window([col, row, 1, 1], dataset.raster_size(), 1, limit)?;
    let integer = dataset.rasterband(band).map_err(|e| e.to_string())?.band_type().is_integer();
    let value = pixel_value(dataset, band, [window.col as i64, window.row as i64], guard)?;
    Ok(value.map_or(Value::Null, |v| sql_value(v, None, integer)))
}

/// One pixel of a band (1-based) as f64; None at nodata (the band's tag, or NaN). The pixel must
/// be inside the raster.
pub fn pixel_value(
    dataset: &gdal::Dataset,
    band: usize,
    [col, row]: [i64; 2],
    guard: &mut dyn ReadGuard,
) -> Result<Option<f64>, String> {
    let raster = dataset.rasterband(band).map_err(|e| e.to_string())?;
    let mut value = [0f64];
    guard.before_read(1)?;
    raster
        .read_into_slice((col as isize, row as isize), (1, 1), (1, 1), &mut value, None)
        .map_err(|e| format!("read error in band {band}: {}", gdal_message(&e)))?;
    Ok((!is_nodata(value[0], raster.no_data_value())).then_some(value[0]))
}

/// A raster value as SQL: NULL at nodata, an integer for integer bands, a real for float bands.
pub fn sql_value(v: f64, nodata: Option<f64>, integer_band: bool) -> Value {
    if is_nodata(v, nodata) {
        Value::Null
    } else if integer_band {
        Value::Integer(v as i64)
    } else {
        Value::Real(v)
    }
}

/// Column and row of the pixel containing (lon, lat), reprojected to the raster's CRS; None outside.
pub fn pixel_of(dataset: &gdal::Dataset, lon: f64, lat: f64) -> Result<Option<[i64; 2]>, String> {
    let lonlat = lonlat_srs()?;
    let raster_crs = dataset.spatial_ref().map_err(|e| format!("the raster has no CRS: {e}"))?;
    let transform = CoordTransform::new(&lonlat, &raster_crs).map_err(|e| e.to_string())?;
    let (mut x, mut y, mut z) = ([lon], [lat], [0.0]);
    transform.transform_coords(&mut x, &mut y, &mut z).map_err(|e| format!("cannot reproject ({lon}, {lat}): {e}"))?;
    let to_pixels = dataset
        .geo_transform()
        .map_err(|e| format!("the raster has no geotransform: {e}"))?
        .invert()
        .map_err(|e| format!("the raster's geotransform cannot be inverted: {e}"))?;
    let (col, row) = to_pixels.apply(x[0], y[0]);
    let (col, row) = (col.floor(), row.floor());
    let (w, h) = dataset.raster_size();
    let inside = col >= 0.0 && row >= 0.0 && col < w as f64 && row < h as f64;
    Ok(inside.then_some([col as i64, row as i64]))
}

/// What a value is read as: a band of the file, or an index computed from its bands.
pub enum Measure {
    /// A band, by name or number (resolved per file).
    Band(String),
    /// A spectral index of the modality.
    Index(&'static IndexDef),
}

/// An index of `modality` when `band` names one, else the band itself (checked per file).
pub fn measure_of(function: &str, modality: &str, band: &str) -> rusqlite::Result<Measure> {
    match find_index(band) {
        Some(def) if def.modality.is(modality) => Ok(Measure::Index(def)),
        Some(def) => {
            Err(fail(function, format!("{} is an index of {}, not of {modality}", def.name, def.modality.name())))
        }
        None => Ok(Measure::Band(band.to_string())),
    }
}

/// The bands of a file a measure is read from, 1-based.
pub struct Bands {
    /// The band, or the index's inputs.
    pub inputs: Inputs,
    /// cloud_probability, whose value over the threshold hides the pixel: none for a file without
    /// a cloud band, nor when the cloud band itself is asked for.
    pub cloud: Option<usize>,
}

/// The band of a measure, or the index with its input bands.
pub enum Inputs {
    /// One band.
    Band(usize),
    /// An index and its input bands, in the order its formula takes them.
    Index(&'static IndexDef, Vec<usize>),
}

impl Bands {
    /// The bands of `target` that `measure` needs; an error naming `function` for a band it lacks.
    pub fn of(function: &str, target: &Target, measure: &Measure) -> rusqlite::Result<Bands> {
        let inputs = match measure {
            Measure::Band(name) => Inputs::Band(target.band(function, name)?),
            Measure::Index(def) => {
                Inputs::Index(def, def.bands.iter().map(|b| target.band(function, b)).collect::<rusqlite::Result<_>>()?)
            }
        };
        let cloud =
            cloud_band(&target.band_names).filter(|&cloud| !matches!(inputs, Inputs::Band(band) if band == cloud));
        Ok(Bands { inputs, cloud })
    }
}

/// Band statistics as `s12_stats` and `s12_zonal` give them: JSON {count, min, max, mean, stddev}.
pub fn stats_json(stats: &BandStats) -> String {
    let summary = stats.summary.as_ref();
    serde_json::json!({
        "count": stats.valid_count,
        "min": summary.map(|s| s.min),
        "max": summary.map(|s| s.max),
        "mean": summary.map(|s| s.mean),
        "stddev": summary.map(|s| s.stddev),
    })
    .to_string()
}
