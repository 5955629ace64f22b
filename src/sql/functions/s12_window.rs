//! `s12_window(scene, modality, bands, col, row, width, height)` -> `.npy` BLOB in the file's type,
//! written straight into the memory SQLite returns (see `blob_result`): from the file's tiles when
//! they are read without GDAL (`raster/tiles.rs`, kept for the next windows in the process's tile
//! store), else by GDAL.

use crate::raster::npy::{npy_layout, write_npy};
use crate::raster::RasterError;
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::band_spec;
use crate::sql::runtime::blob_result::{RawArgs, SqliteBlob};
use crate::sql::runtime::session::Session;
use crate::sql::runtime::windows::checked_window;
use rusqlite::{Connection, Result};

pub(crate) fn window(ctx: &RawArgs, conn: &Connection, session: &Session) -> Result<Option<SqliteBlob>> {
    const F: &str = "s12_window";
    let (Some(scene), Some(modality), Some(bands), Some(w)) = (
        arguments::scene(F, ctx, 0)?,
        arguments::text(F, ctx, 1, "modality")?,
        band_spec(F, ctx, 2)?,
        arguments::window(F, ctx, 3)?,
    ) else {
        return Ok(None);
    };
    let target = session.file(conn, F, &scene, &modality)?;
    let bands = target.bands(F, &bands)?;
    let limit = session.limits.window_values;
    let mut call = session.call(F, conn);
    call.with_tiles(&target, |dataset, tiles, guard| {
        let window = checked_window(w, dataset.raster_size(), bands.len(), limit)?;
        let dtype = dataset.rasterband(1).map_err(|e| RasterError::no_band(1, e))?.band_type();
        let layout = npy_layout(dtype, bands.len(), window)?;
        let mut blob = SqliteBlob::new(F, layout.len).map_err(|e| RasterError::TooLarge(e.to_string()))?;
        write_npy((dataset, tiles), &layout, &bands, window, guard, blob.uninit())?;
        Ok(blob)
    })
    .map(Some)
}
