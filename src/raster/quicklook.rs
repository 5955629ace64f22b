//! Quicklook images: a 2–98 % stretch, a colour ramp, and PNG encoding (the png crate, in memory).

use super::error::{RasterError, Result};
use super::stats::BandAccumulator;
use super::strips::ReadGuard;
use gdal::raster::GdalDataType;

/// An RGBA image, row-major; alpha 0 where there is no data.
pub struct Image {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// RGBA, row-major, `width * height` of them.
    pub pixels: Vec<[u8; 4]>,
}

/// The colour of a pixel without data.
pub const TRANSPARENT: [u8; 4] = [0, 0, 0, 0];

/// The 2nd and 98th percentiles (numpy's linear definition) of the values that are not nodata.
pub fn stretch_bounds(values: &[f64], dtype: GdalDataType, nodata: Option<f64>) -> Option<(f64, f64)> {
    let mut accumulator = BandAccumulator::new(dtype, nodata);
    accumulator.push(values);
    accumulator.finish().summary.map(|s| (s.percentiles[0], s.percentiles[2]))
}

/// `value` scaled from `[low, high]` to 0..=255, clipped.
pub fn scale(value: f64, (low, high): (f64, f64)) -> u8 {
    if high <= low {
        return 128;
    }
    clipped_round((value - low) / (high - low) * 255.0)
}

/// `x` clipped to 0..=255 and rounded half away from zero, as `x.round().clamp(0.0, 255.0) as u8`
/// (NaN: 0), without `f64::round`: on x86-64 without SSE4.1 that is a call into libm, which was
/// over half of drawing the quicklooks the ingest keeps (a call a sample).
fn clipped_round(x: f64) -> u8 {
    let x = x.clamp(0.0, 255.0);
    let whole = x as u8;
    // Exact: both are below 2^52, so their difference is the fraction itself.
    whole + u8::from(x - f64::from(whole) >= 0.5)
}

/// ColorBrewer RdYlGn at 0, 1/4, 1/2, 3/4, 1: red for low values, green for high.
const RAMP: [[f64; 3]; 5] =
    [[165.0, 0.0, 38.0], [244.0, 109.0, 67.0], [255.0, 255.0, 191.0], [102.0, 189.0, 99.0], [0.0, 104.0, 55.0]];

/// The ramp's colour at `level` (0..=255).
pub fn ramp(level: u8) -> [u8; 4] {
    let t = f64::from(level) / 255.0 * (RAMP.len() - 1) as f64;
    let i = (t.floor() as usize).min(RAMP.len() - 2);
    let f = t - i as f64;
    let mix = |k: usize| clipped_round(RAMP[i][k] + (RAMP[i + 1][k] - RAMP[i][k]) * f);
    [mix(0), mix(1), mix(2), 255]
}

/// The PNG of `image` (RGBA). `guard` is polled before: fdeflate encodes a 2000 px quicklook in
/// tens of milliseconds, well within what a host waits for an interrupt.
pub fn encode_png(image: &Image, guard: &mut dyn ReadGuard) -> Result<Vec<u8>> {
    guard.poll()?;
    let bytes: Vec<u8> = image.pixels.iter().flatten().copied().collect();
    encode(image.width, image.height, png::ColorType::Rgba, None, &bytes)
}

/// 8-bit `bytes` of `colour` (row-major) as a PNG compressed with fdeflate's fast setting (a
/// quicklook is drawn once and looked at); an indexed image takes its palette from `legend`, plus
/// a last, transparent entry.
pub fn encode(
    width: usize,
    height: usize,
    colour: png::ColorType,
    legend: Option<&[(u8, [u8; 3])]>,
    bytes: &[u8],
) -> Result<Vec<u8>> {
    let failed = |e: png::EncodingError| image_error("cannot encode PNG", e);
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width as u32, height as u32);
    encoder.set_color(colour);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    if let Some(legend) = legend {
        let mut palette: Vec<u8> = legend.iter().flat_map(|(_, rgb)| *rgb).collect();
        palette.extend([0, 0, 0]);
        let mut alpha = vec![255u8; legend.len()];
        alpha.push(0);
        encoder.set_palette(palette);
        encoder.set_trns(alpha);
    }
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(bytes).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(out)
}

/// [`RasterError::Image`]: what failed, and why.
fn image_error(what: &str, reason: impl std::fmt::Display) -> RasterError {
    RasterError::Image(format!("{what}: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_round_as_std_does() {
        let steps = (-600..=600).map(|k| f64::from(k) * 0.5);
        let edges = [0.5f64.next_down(), 0.5f64.next_up(), 254.5f64.next_down(), 254.5, 255.0f64.next_up(), 1e300];
        for x in steps.chain(edges).chain([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0]) {
            assert_eq!(clipped_round(x), x.round().clamp(0.0, 255.0) as u8, "{x}");
        }
        assert_eq!(scale(7.0, (5.0, 5.0)), 128);
        assert_eq!((scale(0.0, (0.0, 10.0)), scale(5.0, (0.0, 10.0)), scale(10.0, (0.0, 10.0))), (0, 128, 255));
    }
}
