//! `s12_stats(scene, modality, band [, col, row, width, height])` -> JSON {count, min, max, mean, stddev}.

use crate::raster::stats::BandAccumulator;
use crate::raster::strips::for_each_strip;
use crate::raster::RasterError;
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::band_spec;
use crate::sql::runtime::session::Session;
use crate::sql::runtime::values::stats_json;
use crate::sql::runtime::windows::window_of;
use rusqlite::functions::Context;
use rusqlite::Result;

pub(crate) fn stats(ctx: &Context, session: &Session) -> Result<Option<String>> {
    const F: &str = "s12_stats";
    let (Some(scene), Some(modality), Some(band)) =
        (arguments::scene(F, ctx, 0)?, arguments::text(F, ctx, 1, "modality")?, band_spec(F, ctx, 2)?)
    else {
        return Ok(None);
    };
    let Some(window) = arguments::optional_window(F, ctx, 3)? else { return Ok(None) };
    let conn = arguments::connection(ctx)?;
    let target = session.file(&conn, F, &scene, &modality)?;
    let band = target.band(F, &band)?;
    let limit = session.limits.window_values;
    let result = session.call(F, &conn).with_dataset(&target, |dataset, guard| {
        let window = window_of(dataset, window, 1, limit)?;
        let raster = dataset.rasterband(band).map_err(|e| RasterError::no_band(band, e))?;
        let mut accumulator = BandAccumulator::new(raster.band_type(), raster.no_data_value());
        for_each_strip(dataset, &[band], window, guard, |strips, pixels| accumulator.push(&strips[0][..pixels]))?;
        Ok(stats_json(&accumulator.finish()))
    });
    result.map(Some)
}
