//! `s12_stats(scene, modality, band [, col, row, width, height])` -> JSON {count, min, max, mean, stddev}.

use super::session::Session;
use super::utils::{self, band_spec, stats_json, window_of};
use crate::raster::stats::BandAccumulator;
use crate::raster::strips::for_each_strip;
use rusqlite::functions::Context;
use rusqlite::Result;

pub(super) fn stats(ctx: &Context, session: &Session) -> Result<Option<String>> {
    const F: &str = "s12_stats";
    let (Some(scene), Some(modality), Some(band)) =
        (utils::scene(F, ctx, 0)?, utils::text(F, ctx, 1, "modality")?, band_spec(F, ctx, 2)?)
    else {
        return Ok(None);
    };
    let Some(window) = utils::optional_window(F, ctx, 3)? else { return Ok(None) };
    let conn = utils::connection(ctx)?;
    let target = session.resolve(&conn, F, &scene, &modality)?;
    let band = target.band(F, &band)?;
    let limit = session.limits.window_values;
    let result = session.call(F, &conn).with_dataset(&target, |dataset, guard| {
        let window = window_of(dataset, window, 1, limit)?;
        let raster = dataset.rasterband(band).map_err(|e| e.to_string())?;
        let mut accumulator = BandAccumulator::new(raster.band_type(), raster.no_data_value());
        for_each_strip(dataset, &[band], window, guard, |strips, pixels| accumulator.push(&strips[0][..pixels]))?;
        Ok(stats_json(&accumulator.finish()))
    });
    result.map(Some)
}
