//! `s12_pixels(scene, modality, col, row, width, height)` -> `x, y, lon, lat, band, value`: one
//! row per pixel and band of a window, the pixel's centre in WGS84, NULL values at nodata.

use super::resolve::resolve;
use super::session::Session;
use super::table::TableFunction;
use super::utils::{self, checked_window, fail, sql_value};
use crate::raster::open::pixels_to_lonlat;
use crate::raster::strips::{read_bands, ReadGuard, Window};
use gdal::Dataset;
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

const F: &str = "s12_pixels";
/// Rows of pixel centres reprojected at a time, between polls of the guard.
const CENTRE_ROWS: usize = 32;

pub(super) struct Pixels {
    window: Window,
    band_names: Vec<String>,
    /// Per band, the window's values row-major, already SQL values (NULL at nodata).
    values: Vec<Vec<Value>>,
    /// Per pixel, the centre in lon/lat.
    centres: Vec<[f64; 2]>,
}

impl TableFunction for Pixels {
    const NAME: &'static str = F;
    const COLUMNS: &'static [&'static str] = &["x", "y", "lon", "lat", "band", "value"];
    const ARGUMENTS: &'static [&'static str] = &["scene", "modality", "col", "row", "width", "height"];
    const REQUIRED: usize = 6;

    fn rows(conn: &Connection, session: &Session, arguments: &[Value]) -> Result<Option<Self>> {
        let (Some(scene), Some(modality), Some(requested)) = (
            utils::scene(F, arguments, 0)?,
            utils::text(F, arguments, 1, "modality")?,
            utils::window(F, arguments, 2)?,
        ) else {
            return Ok(None);
        };
        let target = resolve(conn, F, &scene, &modality)?;
        let bands = target.band_names.len();
        let rows = requested[2].saturating_mul(requested[3]).saturating_mul(bands as i64);
        let too_many = |max| {
            format!("{} x {} px x {bands} bands is {rows} rows, over the limit of {max}", requested[2], requested[3])
        };
        session.limits.pixel_rows.check(rows.max(0) as u64, too_many).map_err(|e| fail(F, e))?;
        let limit = session.limits.window_values;
        let pixels = session.call(F, conn).with_dataset(&target, |dataset, guard| {
            let window = checked_window(requested, dataset.raster_size(), bands, limit)?;
            let values = sql_values(dataset, bands, window, guard)?;
            let centres = centres(dataset, window, guard)?;
            Ok(Pixels { window, band_names: target.band_names.clone(), values, centres })
        });
        pixels.map(Some)
    }

    fn len(&self) -> usize {
        self.centres.len() * self.band_names.len()
    }

    /// Rows go pixel by pixel (row-major), all bands of a pixel together.
    fn value(&self, row: usize, column: usize) -> Value {
        let (pixel, band) = (row / self.band_names.len(), row % self.band_names.len());
        match column {
            0 => Value::Integer((self.window.col + pixel % self.window.width) as i64),
            1 => Value::Integer((self.window.row + pixel / self.window.width) as i64),
            2 => Value::Real(self.centres[pixel][0]),
            3 => Value::Real(self.centres[pixel][1]),
            4 => Value::Text(self.band_names[band].clone()),
            _ => self.values[band][pixel].clone(),
        }
    }
}

/// Every band of `window` as SQL values: integers for integer bands, reals for float ones, NULL at
/// nodata. The guard is polled between bands.
fn sql_values(
    dataset: &Dataset,
    bands: usize,
    window: Window,
    guard: &mut dyn ReadGuard,
) -> Result<Vec<Vec<Value>>, String> {
    let read: Vec<usize> = (1..=bands).collect();
    let kinds: Vec<(Option<f64>, bool)> = read
        .iter()
        .map(|&b| {
            dataset.rasterband(b).map(|r| (r.no_data_value(), r.band_type().is_integer())).map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let raw = read_bands(dataset, &read, window, guard)?;
    let mut values: Vec<Vec<Value>> = Vec::with_capacity(raw.len());
    for (band, &(nodata, integer)) in raw.iter().zip(&kinds) {
        guard.poll()?;
        values.push(band.iter().map(|&v| sql_value(v, nodata, integer)).collect());
    }
    Ok(values)
}

/// The lon/lat centre of every pixel of `window`, row-major, reprojected CENTRE_ROWS rows at a
/// time between polls of the guard.
fn centres(dataset: &Dataset, window: Window, guard: &mut dyn ReadGuard) -> Result<Vec<[f64; 2]>, String> {
    let mut centres = Vec::with_capacity(window.pixels());
    for rows in (0..window.height).collect::<Vec<_>>().chunks(CENTRE_ROWS) {
        guard.poll()?;
        let positions: Vec<(f64, f64)> = rows
            .iter()
            .flat_map(|&y| {
                (0..window.width).map(move |x| ((window.col + x) as f64 + 0.5, (window.row + y) as f64 + 0.5))
            })
            .collect();
        centres.extend(pixels_to_lonlat(dataset, &positions)?);
    }
    Ok(centres)
}
