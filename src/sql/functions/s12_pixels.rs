//! `s12_pixels(scene, modality, col, row, width, height)` -> `x, y, lon, lat, band, value`: one
//! row per pixel and band of a window, the pixel's centre in WGS84, NULL values at nodata. The
//! window is read CHUNK_ROWS rows at a time as the rows are asked for.

use crate::raster::cache::{Pinned, CHANGED};
use crate::raster::open::pixels_to_lonlat;
use crate::raster::strips::{read_bands, ReadGuard, Window};
use crate::raster::RasterError;
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::fail;
use crate::sql::runtime::resolve::{self, Target};
use crate::sql::runtime::session::Session;
use crate::sql::runtime::table::TableFunction;
use crate::sql::runtime::values::sql_value;
use crate::sql::runtime::windows::checked_window;
use gdal::Dataset;
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

const F: &str = "s12_pixels";
/// Rows of the window read, and their pixel centres reprojected, at a time.
const CHUNK_ROWS: usize = 32;

pub(crate) struct Pixels {
    target: Target,
    window: Window,
    /// The chunk of CHUNK_ROWS window rows read last, and its pixels.
    chunk: Option<usize>,
    /// Per band, the chunk's values row-major, already SQL values (NULL at nodata).
    values: Vec<Vec<Value>>,
    /// Per pixel of the chunk, the centre in lon/lat.
    centres: Vec<[f64; 2]>,
    /// The file as it was when the table began: a chunk read from it changed since is refused.
    pinned: Pinned,
}

impl TableFunction for Pixels {
    const NAME: &'static str = F;
    const COLUMNS: &'static [&'static str] = &["x", "y", "lon", "lat", "band", "value"];
    const ARGUMENTS: &'static [&'static str] = &["scene", "modality", "col", "row", "width", "height"];
    const REQUIRED: usize = 6;

    fn rows(conn: &Connection, session: &Session, arguments: &[Value]) -> Result<Option<Self>> {
        let (Some(scene), Some(modality), Some(requested)) = (
            arguments::scene(F, arguments, 0)?,
            arguments::text(F, arguments, 1, "modality")?,
            arguments::window(F, arguments, 2)?,
        ) else {
            return Ok(None);
        };
        let target = resolve::file(conn, F, &scene, &modality)?;
        let bands = target.band_names.len();
        let rows = requested[2].saturating_mul(requested[3]).saturating_mul(bands as i64);
        let too_many = |max| {
            format!("{} x {} px x {bands} bands is {rows} rows, over the limit of {max}", requested[2], requested[3])
        };
        session.limits.pixel_rows.check(rows.max(0) as u64, too_many).map_err(|e| fail(F, e))?;
        let limit = session.limits.window_values;
        let window = session
            .call(F, conn)
            .with_dataset(&target, |dataset, _| checked_window(requested, dataset.raster_size(), bands, limit))?;
        let pinned = Pinned::of([target.path.as_path()]);
        Ok(Some(Pixels { target, window, chunk: None, values: Vec::new(), centres: Vec::new(), pinned }))
    }

    fn len(&self) -> usize {
        self.window.pixels() * self.target.band_names.len()
    }

    fn ready(&self, row: usize) -> bool {
        self.chunk == Some(self.chunk_of(row))
    }

    /// Reads the CHUNK_ROWS window rows that hold `row`, every band, and their pixel centres.
    fn fill(&mut self, conn: &Connection, session: &Session, row: usize) -> Result<()> {
        let chunk = self.chunk_of(row);
        let first = chunk * CHUNK_ROWS;
        let rows =
            Window { row: self.window.row + first, height: CHUNK_ROWS.min(self.window.height - first), ..self.window };
        let bands = self.target.band_names.len();
        let (values, centres) = session.call(F, conn).with_dataset(&self.target, |dataset, guard| {
            Ok((sql_values(dataset, bands, rows, guard)?, centres(dataset, rows, guard)?))
        })?;
        if self.pinned.changed().is_some() {
            return Err(fail(F, format!("{}: {CHANGED}", self.target.relative)));
        }
        (self.values, self.centres, self.chunk) = (values, centres, Some(chunk));
        Ok(())
    }

    /// Rows go pixel by pixel (row-major), all bands of a pixel together.
    fn value(&self, row: usize, column: usize) -> Value {
        let bands = self.target.band_names.len();
        let (pixel, band) = (row / bands, row % bands);
        let in_chunk = pixel - self.chunk.unwrap_or(0) * CHUNK_ROWS * self.window.width;
        match column {
            0 => Value::Integer((self.window.col + pixel % self.window.width) as i64),
            1 => Value::Integer((self.window.row + pixel / self.window.width) as i64),
            2 => Value::Real(self.centres[in_chunk][0]),
            3 => Value::Real(self.centres[in_chunk][1]),
            4 => Value::Text(self.target.band_names[band].clone()),
            _ => self.values[band][in_chunk].clone(),
        }
    }
}

impl Pixels {
    /// The chunk of window rows that output row `row` is in.
    fn chunk_of(&self, row: usize) -> usize {
        row / self.target.band_names.len() / self.window.width / CHUNK_ROWS
    }
}

/// Every band of `window` as SQL values: integers for integer bands, reals for float ones, NULL at
/// nodata. The guard is polled between bands.
fn sql_values(
    dataset: &Dataset,
    bands: usize,
    window: Window,
    guard: &mut dyn ReadGuard,
) -> Result<Vec<Vec<Value>>, RasterError> {
    let read: Vec<usize> = (1..=bands).collect();
    let kinds: Vec<(Option<f64>, bool)> = read
        .iter()
        .map(|&b| {
            dataset
                .rasterband(b)
                .map(|r| (r.no_data_value(), r.band_type().is_integer()))
                .map_err(|e| RasterError::no_band(b, e))
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

/// The lon/lat centre of every pixel of `window`, row-major.
fn centres(dataset: &Dataset, window: Window, guard: &mut dyn ReadGuard) -> Result<Vec<[f64; 2]>, RasterError> {
    guard.poll()?;
    let positions: Vec<(f64, f64)> = (0..window.height)
        .flat_map(|y| (0..window.width).map(move |x| ((window.col + x) as f64 + 0.5, (window.row + y) as f64 + 0.5)))
        .collect();
    pixels_to_lonlat(dataset, &positions)
}
