//! `s12_index(scene, index, col, row, width, height)` -> `.npy` float32 of a spectral index;
//! `s12_index_mean(scene, index [, col, row, width, height])` -> its mean over valid, cloud-free pixels.

use crate::catalog::cloud_threshold;
use crate::layout::Modality;
use crate::raster::indices::{for_each_index_value, IndexDef};
use crate::raster::npy::npy_header;
use crate::raster::optical::OpticalCounts;
use crate::raster::optical::{cloud_band, mask_of};
use crate::raster::strips::for_each_strip;
use crate::sql::runtime::arguments;
use crate::sql::runtime::measures::index_def;
use crate::sql::runtime::resolve::{self, Target};
use crate::sql::runtime::session::Session;
use crate::sql::runtime::windows::window_of;
use rusqlite::functions::Context;
use rusqlite::Result;

/// The scene's file for the index and the index's band numbers.
fn target(ctx: &Context, function: &str, def: &IndexDef) -> Result<Option<(Target, Vec<usize>)>> {
    let Some(scene) = arguments::scene(function, ctx, 0)? else { return Ok(None) };
    let conn = arguments::connection(ctx)?;
    let target = resolve::file(&conn, function, &scene, def.modality.name())?;
    let bands = def.bands.iter().map(|b| target.band(function, b)).collect::<Result<Vec<_>>>()?;
    Ok(Some((target, bands)))
}

pub(crate) fn index_array(ctx: &Context, session: &Session) -> Result<Option<Vec<u8>>> {
    const F: &str = "s12_index";
    let (Some(name), Some(requested)) = (arguments::text(F, ctx, 1, "index")?, arguments::window(F, ctx, 2)?) else {
        return Ok(None);
    };
    let def = index_def(F, &name)?;
    let Some((target, bands)) = target(ctx, F, def)? else { return Ok(None) };
    let limit = session.limits.window_values;
    let conn = arguments::connection(ctx)?;
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

pub(crate) fn index_mean(ctx: &Context, session: &Session) -> Result<Option<f64>> {
    const F: &str = "s12_index_mean";
    let Some(name) = arguments::text(F, ctx, 1, "index")? else { return Ok(None) };
    let Some(requested) = arguments::optional_window(F, ctx, 2)? else { return Ok(None) };
    let def = index_def(F, &name)?;
    let Some((target, index_bands)) = target(ctx, F, def)? else { return Ok(None) };
    let conn = arguments::connection(ctx)?;
    let threshold = cloud_threshold(&conn);
    let limit = session.limits.window_values;
    session.call(F, &conn).with_dataset(&target, |dataset, guard| {
        // The index bands, and for S2 cloud_probability: the catalog's rule, reading no more.
        let cloud = cloud_band(&target.band_names);
        let read: Vec<usize> =
            index_bands.iter().copied().chain(cloud.filter(|_| def.modality == Modality::S2)).collect();
        let window = window_of(dataset, requested, read.len(), limit)?;
        let mask = mask_of(dataset, &target.band_names, &read, threshold)?;
        let slot = |band: usize| read.iter().position(|b| *b == band).unwrap_or(0);
        let positions: Vec<usize> = index_bands.iter().map(|&b| slot(b)).collect();
        let compute = |strips: &[Vec<f64>], i: usize| {
            let inputs: Vec<f64> = positions.iter().map(|&p| strips[p][i]).collect();
            (def.compute)(&inputs)
        };
        let mut counts = OpticalCounts::default();
        for_each_strip(dataset, &read, window, guard, |strips, pixels| {
            counts.add_strip(&mask, &mask, strips, pixels, compute);
        })?;
        Ok(counts.index_mean())
    })
}
