//! Quicklook images: a 2–98 % stretch, a colour ramp, and PNG encoding through GDAL's own PNG
//! driver (in memory: `/vsimem/`, nothing written to disk).

use super::error::{RasterError, Result};
use super::open::{last_gdal_error, unique_vsimem_path, QuietGdal};
use super::stats::BandAccumulator;
use super::strips::ReadGuard;
use gdal::raster::{Buffer, GdalDataType, RasterCreationOptions};
use gdal::DriverManager;
use std::ffi::{c_char, c_int, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

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
    ((value - low) / (high - low) * 255.0).round().clamp(0.0, 255.0) as u8
}

/// ColorBrewer RdYlGn at 0, 1/4, 1/2, 3/4, 1: red for low values, green for high.
const RAMP: [[f64; 3]; 5] =
    [[165.0, 0.0, 38.0], [244.0, 109.0, 67.0], [255.0, 255.0, 191.0], [102.0, 189.0, 99.0], [0.0, 104.0, 55.0]];

/// The ramp's colour at `level` (0..=255).
pub fn ramp(level: u8) -> [u8; 4] {
    let t = level as f64 / 255.0 * (RAMP.len() - 1) as f64;
    let i = (t.floor() as usize).min(RAMP.len() - 2);
    let f = t - i as f64;
    let mix = |k: usize| (RAMP[i][k] + (RAMP[i + 1][k] - RAMP[i][k]) * f).round() as u8;
    [mix(0), mix(1), mix(2), 255]
}

/// The PNG of `image`. GDAL's PNG writer reports its progress once a row, and `guard` is polled
/// there: a host's interrupt stops the encoding of a large quicklook too.
pub fn encode_png(image: &Image, guard: &mut dyn ReadGuard) -> Result<Vec<u8>> {
    let _quiet = QuietGdal::new();
    let (w, h) = (image.width, image.height);
    let memory = DriverManager::get_driver_by_name("MEM").map_err(|e| image_error("GDAL has no MEM driver", e))?;
    let png = DriverManager::get_driver_by_name("PNG").map_err(|e| image_error("GDAL has no PNG driver", e))?;
    let dataset =
        memory.create_with_band_type::<u8, _>("", w, h, 4).map_err(|e| image_error("cannot make an image", e))?;
    for channel in 0..4 {
        guard.poll()?;
        let mut band = dataset.rasterband(channel + 1).map_err(|e| RasterError::no_band(channel + 1, e))?;
        let mut buffer = Buffer::new((w, h), image.pixels.iter().map(|p| p[channel]).collect());
        band.write((0, 0), (w, h), &mut buffer).map_err(|e| image_error("cannot fill the image", e))?;
    }
    let name = unique_vsimem_path("png", "png");
    // zlib's fastest level: a quicklook is drawn once and looked at, and deflate at the default
    // level took over half the time of a whole-scene s12_png.
    let options = RasterCreationOptions::from_iter(["ZLEVEL=1"]);
    let path = CString::new(name.as_str()).map_err(|e| RasterError::Internal(e.to_string()))?;
    let mut polled = Polled { guard, stopped: None };
    // SAFETY: valid driver, dataset and NUL-terminated strings; `polled` outlives the call, and
    // `keep_going` only reads it through the pointer GDAL hands back.
    let written = unsafe {
        gdal_sys::GDALCreateCopy(
            png.c_driver(),
            path.as_ptr(),
            dataset.c_dataset(),
            0,
            options.as_ptr(),
            Some(keep_going),
            (&mut polled as *mut Polled).cast::<c_void>(),
        )
    };
    if written.is_null() {
        let _ = gdal::vsi::unlink_mem_file(&name);
        return Err(polled.stopped.unwrap_or_else(|| image_error("cannot encode PNG", last_gdal_error())));
    }
    // SAFETY: closes the dataset GDALCreateCopy returned, once.
    unsafe { gdal_sys::GDALClose(written) };
    gdal::vsi::get_vsi_mem_file_bytes_owned(&name).map_err(|e| image_error("cannot read the encoded PNG", e))
}

/// [`RasterError::Image`]: what failed, and GDAL's reason.
fn image_error(what: &str, reason: impl std::fmt::Display) -> RasterError {
    RasterError::Image(format!("{what}: {reason}"))
}

/// The guard of an encoding, and why it stopped it.
struct Polled<'g> {
    guard: &'g mut dyn ReadGuard,
    stopped: Option<RasterError>,
}

/// GDAL's progress callback: FALSE (stop) when the guard says so. No panic may unwind into GDAL.
unsafe extern "C" fn keep_going(_: f64, _: *const c_char, polled: *mut c_void) -> c_int {
    // SAFETY: `polled` is the `Polled` that encode_png passed and keeps alive during the call.
    let polled = unsafe { &mut *polled.cast::<Polled>() };
    match catch_unwind(AssertUnwindSafe(|| polled.guard.poll())) {
        Ok(Ok(())) => 1,
        Ok(Err(message)) => {
            polled.stopped = Some(message);
            0
        }
        Err(_) => {
            polled.stopped = Some(RasterError::Internal("while encoding (a bug: please report it)".into()));
            0
        }
    }
}
