//! `s12_index(scene, index, col, row, width, height)` -> `.npy` float32 of a spectral index;
//! `s12_index_mean(scene, index [, col, row, width, height])` -> its mean over valid, cloud-free pixels.

use super::args::{self, fail};
use super::limits::Limit;
use super::resolve::{resolve, Target};
use super::session::Session;
use super::window::checked_window;
use crate::catalog::cloud_threshold;
use crate::raster::indices::{find_index, IndexDef, INDICES};
use crate::raster::npy::npy_header;
use crate::raster::optical::{OpticalCounts, OpticalMask};
use crate::raster::stats::is_nodata;
use crate::raster::strips::{for_each_strip, ReadGuard, Window};
use gdal::Dataset;
use rusqlite::functions::Context;
use rusqlite::Result;

pub fn index_def(function: &str, name: &str) -> Result<&'static IndexDef> {
    find_index(name).ok_or_else(|| {
        let known: Vec<&str> = INDICES.iter().map(|d| d.name).collect();
        fail(
            function,
            format!("unknown index '{}' (known: {})", name.chars().take(40).collect::<String>(), known.join(", ")),
        )
    })
}

/// The scene's file for the index and the index's band numbers.
fn target(ctx: &Context, function: &str, def: &IndexDef) -> Result<Option<(Target, Vec<usize>)>> {
    let Some(scene) = args::scene(function, ctx, 0)? else { return Ok(None) };
    // SAFETY: the connection is only used inside this call, on SQLite's own thread.
    let conn = unsafe { ctx.get_connection()? };
    let target = resolve(&conn, function, &scene, def.modality)?;
    let bands = def.bands.iter().map(|b| target.band(function, b)).collect::<Result<Vec<_>>>()?;
    Ok(Some((target, bands)))
}

pub fn window_of(dataset: &Dataset, requested: Option<[i64; 4]>, bands: usize, limit: Limit) -> Result<Window, String> {
    let (w, h) = dataset.raster_size();
    requested.map_or(Ok(Window::whole(w, h)), |r| checked_window(r, (w, h), bands, limit))
}

fn nodata_tags(dataset: &Dataset, bands: &[usize]) -> Result<Vec<Option<f64>>, String> {
    bands.iter().map(|&b| dataset.rasterband(b).map(|r| r.no_data_value()).map_err(|e| e.to_string())).collect()
}

/// The catalog's validity and cloud rule over a read of `read` (1-based bands of `target`):
/// cloud_probability is the cloud band, every other band must have data.
pub fn mask_of(dataset: &Dataset, target: &Target, read: &[usize], threshold: f64) -> Result<OpticalMask, String> {
    let tags = nodata_tags(dataset, read)?;
    let is_cloud = |band: usize| target.band_names[band - 1] == "cloud_probability";
    let slots = || read.iter().enumerate().map(|(slot, &band)| (slot, band));
    Ok(OpticalMask {
        reflectance: slots().filter(|&(_, b)| !is_cloud(b)).map(|(slot, _)| (slot, tags[slot])).collect(),
        cloud: slots().find(|&(_, b)| is_cloud(b)).map(|(slot, _)| (slot, tags[slot])),
        threshold,
    })
}

pub(super) fn index_array(ctx: &Context, session: &Session) -> Result<Option<Vec<u8>>> {
    const F: &str = "s12_index";
    let (Some(name), Some(requested)) = (args::text(F, ctx, 1, "index")?, args::window(F, ctx, 2)?) else {
        return Ok(None);
    };
    let def = index_def(F, &name)?;
    let Some((target, bands)) = target(ctx, F, def)? else { return Ok(None) };
    let limit = session.limits.window_values;
    // SAFETY: the connection is only used inside this call, on SQLite's own thread.
    let conn = unsafe { ctx.get_connection()? };
    let result = session.call(F, &conn).with_dataset(&target, |dataset, guard| {
        let window = window_of(dataset, Some(requested), bands.len(), limit)?;
        let mut out = npy_header("<f4", &[window.height, window.width]);
        out.reserve(window.pixels() * 4);
        for_each_index_value(dataset, def, &bands, window, guard, |value| {
            out.extend_from_slice(&(if value.is_finite() { value as f32 } else { f32::NAN }).to_le_bytes());
        })?;
        Ok(out)
    });
    result.map(Some)
}

/// Calls `sink` with the index of every pixel of `window`, row-major: NaN where an input band
/// has no data (or the formula has none, a zero denominator).
pub fn for_each_index_value(
    dataset: &Dataset,
    def: &IndexDef,
    bands: &[usize],
    window: Window,
    guard: &mut dyn ReadGuard,
    mut sink: impl FnMut(f64),
) -> Result<(), String> {
    let tags = nodata_tags(dataset, bands)?;
    let mut inputs = vec![0f64; bands.len()];
    for_each_strip(dataset, bands, window, guard, |strips, pixels| {
        for i in 0..pixels {
            let mut valid = true;
            for ((input, strip), &tag) in inputs.iter_mut().zip(strips).zip(&tags) {
                *input = strip[i];
                valid &= !is_nodata(*input, tag);
            }
            sink(if valid { (def.compute)(&inputs) } else { f64::NAN });
        }
    })
}

pub(super) fn index_mean(ctx: &Context, session: &Session) -> Result<Option<f64>> {
    const F: &str = "s12_index_mean";
    let Some(name) = args::text(F, ctx, 1, "index")? else { return Ok(None) };
    let Some(requested) = args::optional_window(F, ctx, 2)? else { return Ok(None) };
    let def = index_def(F, &name)?;
    let Some((target, index_bands)) = target(ctx, F, def)? else { return Ok(None) };
    // SAFETY: the connection is only used inside this call, on SQLite's own thread.
    let conn = unsafe { ctx.get_connection()? };
    let threshold = cloud_threshold(&conn);
    let limit = session.limits.window_values;
    session.call(F, &conn).with_dataset(&target, |dataset, guard| {
        // The index bands, and for S2 cloud_probability: the catalog's rule, reading no more.
        let cloud = target.band_names.iter().position(|n| n == "cloud_probability").map(|i| i + 1);
        let read: Vec<usize> = index_bands.iter().copied().chain(cloud.filter(|_| def.modality == "s2")).collect();
        let window = window_of(dataset, requested, read.len(), limit)?;
        let mask = mask_of(dataset, &target, &read, threshold)?;
        let slot = |band: usize| read.iter().position(|b| *b == band).unwrap_or(0);
        let positions: Vec<usize> = index_bands.iter().map(|&b| slot(b)).collect();
        let compute = |strips: &[Vec<f64>], i: usize| {
            let inputs: Vec<f64> = positions.iter().map(|&p| strips[p][i]).collect();
            (def.compute)(&inputs)
        };
        let mut counts = OpticalCounts::default();
        for_each_strip(dataset, &read, window, guard, |strips, pixels| {
            counts.add_strip(&mask, &mask, strips, pixels, &compute)
        })?;
        Ok(counts.index_mean())
    })
}
