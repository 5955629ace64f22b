//! `s12_png(scene, what, col, row, width, height)` -> a PNG quicklook of a window:
//! `'rgb'` (B4, B3, B2, each stretched 2–98 %), `'vv'` / `'vh'` (grey, stretched 2–98 %),
//! `'worldcover'` (ESA's official palette), `'igbp'` (SEN12MS's land cover, the MODIS legend's
//! colours) or an index name (red-yellow-green ramp over -1..1
//! for normalized differences, over the 2–98 % stretch for the others). No data is transparent.

use crate::catalog::read::{self, SceneRef};
use crate::layout::sen12ms::IGBP_PALETTE;
use crate::layout::sen12tp::WORLDCOVER_PALETTE;
use crate::layout::Modality;
use crate::raster::indices::find_index;
use crate::raster::indices::for_each_index_value;
use crate::raster::kept_quicklook::{draw_whole, look_named};
use crate::raster::quicklook::{encode_png, ramp, scale, stretch_bounds, Image, TRANSPARENT};
use crate::raster::stats::is_nodata;
use crate::raster::strips::read_bands;
use crate::raster::RasterError;
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::fail;
use crate::sql::runtime::measures::index_def;
use crate::sql::runtime::resolve;
use crate::sql::runtime::session::{Call, Session};
use crate::sql::runtime::windows::{checked_window, window_of};
use gdal::raster::GdalDataType;
use rusqlite::functions::Context;
use rusqlite::{Connection, Result};

const F: &str = "s12_png";

pub(crate) fn png(ctx: &Context, session: &Session) -> Result<Option<Vec<u8>>> {
    let (Some(scene), Some(what), Some(window)) =
        (arguments::scene(F, ctx, 0)?, arguments::text(F, ctx, 1, "what")?, arguments::window(F, ctx, 2)?)
    else {
        return Ok(None);
    };
    let pixels = window[2].saturating_mul(window[3]);
    let quicklook_limit = |max| format!("{} x {} px is over the quicklook limit of {max} px", window[2], window[3]);
    session.limits.png_pixels.check(pixels.max(0) as u64, quicklook_limit).map_err(|e| fail(F, e))?;
    let conn = arguments::connection(ctx)?;
    let mut call = session.call(F, &conn);
    let what = what.to_ascii_lowercase();
    let (modality, bands): (Modality, Vec<&str>) = match what.as_str() {
        "rgb" => (Modality::S2, vec!["B4", "B3", "B2"]),
        "vv" | "vh" => (Modality::S1, vec![what.as_str()]),
        "worldcover" => (Modality::Worldcover, vec!["1"]),
        "igbp" => (Modality::Lc, vec!["1"]),
        name if find_index(name).is_some() => return index_png(&conn, &mut call, &scene, name, window).map(Some),
        other => {
            let shown: String = other.chars().take(40).collect();
            let choices = "'rgb', 'vv', 'vh', 'worldcover', 'igbp' or an index (SELECT name FROM s12_indices)";
            return Err(fail(F, format!("cannot draw '{shown}': use {choices}")));
        }
    };
    let target = session.file(&conn, F, &scene, modality.name())?;
    let numbers = bands.iter().map(|b| target.band(F, b)).collect::<Result<Vec<_>>>()?;
    let limit = session.limits.window_values;
    let (values, window, dtype, nodata) = call.with_dataset(&target, |dataset, guard| {
        let window = checked_window(window, dataset.raster_size(), numbers.len(), limit)?;
        let values = read_bands(dataset, &numbers, window, guard)?;
        let first = dataset.rasterband(numbers[0]).map_err(|e| RasterError::no_band(numbers[0], e))?;
        Ok((values, window, first.band_type(), first.no_data_value()))
    })?;
    // Drawing and encoding poll the host's interrupt as they go.
    let pixels = match modality {
        Modality::Worldcover => palette(&mut call, &values[0], nodata, &WORLDCOVER_PALETTE)?,
        Modality::Lc => palette(&mut call, &values[0], nodata, &IGBP_PALETTE)?,
        _ => stretched(&mut call, &values, dtype, nodata)?,
    };
    encode(&mut call, &Image { width: window.width, height: window.height, pixels }).map(Some)
}

/// `s12_png(scene, what)`: the whole-scene quicklook the ingest kept, read from the catalog alone;
/// drawn from the file with the ingest's rules when none was kept or its file changed since.
pub(crate) fn kept(ctx: &Context, session: &Session) -> Result<Option<Vec<u8>>> {
    let (Some(scene), Some(what)) = (arguments::scene(F, ctx, 0)?, arguments::text(F, ctx, 1, "what")?) else {
        return Ok(None);
    };
    let conn = arguments::connection(ctx)?;
    let row = resolve::scene(&conn, F, &scene)?;
    let what = what.to_ascii_lowercase();
    if let Some((modality, png)) = read::kept_quicklook(&conn, row.scene_id, &what)? {
        if resolve::as_catalogued(&conn, F, &row, &modality)? {
            return Ok(Some(png));
        }
    }
    let Some((modality, look)) = row.dataset.and_then(|dataset| look_named(dataset, &what)) else {
        let shown: String = what.chars().take(40).collect();
        return Err(fail(
            F,
            format!(
                "cannot draw '{shown}' of scene {} whole: use 'rgb', 'vv', 'worldcover' (SEN12TP) or 'igbp' \
                 (SEN12MS), or a window: s12_png(scene, what, col, row, width, height)",
                row.name
            ),
        ));
    };
    let target = resolve::file_of(&conn, F, &row, modality.name())?;
    let mut call = session.call(F, &conn);
    let image = call.with_dataset(&target, |dataset, guard| Ok(draw_whole(dataset, look, guard)?))?;
    image.map(|image| Some(image.png)).ok_or_else(|| call.fail("the file was not read to its end"))
}

/// The PNG of `image`, unless the host interrupts the statement while it is encoded.
fn encode(call: &mut Call, image: &Image) -> Result<Vec<u8>> {
    encode_png(image, call).map_err(|e| call.fail(e))
}

/// One band as grey or three as RGB, each band stretched over its own 2–98 %.
/// The host may interrupt between the bands' stretches.
fn stretched(call: &mut Call, bands: &[Vec<f64>], dtype: GdalDataType, nodata: Option<f64>) -> Result<Vec<[u8; 4]>> {
    let mut bounds: Vec<Option<(f64, f64)>> = Vec::with_capacity(bands.len());
    for band in bands {
        call.check_stop()?;
        bounds.push(stretch_bounds(band, dtype, nodata));
    }
    coloured(call, bands[0].len(), |i| {
        if bands.iter().any(|b| is_nodata(b[i], nodata)) {
            return TRANSPARENT;
        }
        let level = |k: usize| bounds[k].map_or(0, |range| scale(bands[k][i], range));
        let rgb = if bands.len() == 3 { [level(0), level(1), level(2)] } else { [level(0); 3] };
        [rgb[0], rgb[1], rgb[2], 255]
    })
}

/// Each class in its colour; no data and codes outside the legend transparent.
fn palette(call: &mut Call, classes: &[f64], nodata: Option<f64>, colours: &[(u8, [u8; 3])]) -> Result<Vec<[u8; 4]>> {
    coloured(call, classes.len(), |i| {
        let c = classes[i];
        match colours.iter().find(|(class, _)| !is_nodata(c, nodata) && f64::from(*class) == c) {
            Some((_, [r, g, b])) => [*r, *g, *b, 255],
            None => TRANSPARENT,
        }
    })
}

/// Pixels drawn between polls of the host's interrupt.
const COLOURED_PER_POLL: usize = 1 << 18;

/// `colour(i)` for every pixel index, in chunks: a whole-scene quicklook can be interrupted here too.
fn coloured(call: &mut Call, count: usize, colour: impl Fn(usize) -> [u8; 4]) -> Result<Vec<[u8; 4]>> {
    let mut pixels = Vec::with_capacity(count);
    for start in (0..count).step_by(COLOURED_PER_POLL) {
        call.check_stop()?;
        pixels.extend((start..(start + COLOURED_PER_POLL).min(count)).map(&colour));
    }
    Ok(pixels)
}

fn index_png(conn: &Connection, call: &mut Call, scene: &SceneRef, name: &str, requested: [i64; 4]) -> Result<Vec<u8>> {
    let def = index_def(F, name)?;
    let target = resolve::file(conn, F, scene, def.modality.name())?;
    let bands = def.bands.iter().map(|b| target.band(F, b)).collect::<Result<Vec<_>>>()?;
    let limit = call.limits().window_values;
    let (values, window) = call.with_dataset(&target, |dataset, guard| {
        let window = window_of(dataset, Some(requested), bands.len(), limit)?;
        let mut values = Vec::with_capacity(window.pixels());
        for_each_index_value(dataset, def, &bands, window, guard, |v| {
            values.push(if v.is_finite() { v } else { f64::NAN });
        })?;
        Ok((values, window))
    })?;
    call.check_stop()?;
    let bounds = def.range.or_else(|| stretch_bounds(&values, GdalDataType::Float64, None));
    let pixels = coloured(call, values.len(), |i| match bounds {
        Some(range) if !values[i].is_nan() => ramp(scale(values[i], range)),
        _ => TRANSPARENT,
    })?;
    encode(call, &Image { width: window.width, height: window.height, pixels })
}
