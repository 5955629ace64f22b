//! The quicklooks the ingest keeps: a whole file drawn at most [`KEPT_SIDE`] px on its longer side,
//! from the strips the statistics pass decodes anyway. Each output pixel is the source pixel at the
//! middle of its block (nearest neighbour, as GDAL's overviews by default): column
//! `min(j * step + step / 2, width - 1)` for the `step` that brings the longer side under the limit.
//! Stretched looks use the file's own exact 2nd and 98th percentiles, which `s12_png` uses when it
//! draws the whole scene; classes are drawn in their legend's colours. Encoded as `s12_png`'s
//! windows are ([`super::quicklook::encode`]).

use super::error::{RasterError, Result};
use super::quicklook::{encode, scale};
use super::stats::{is_nodata, BandAccumulator, Sample};
use super::strips::{for_each_native_strip, ReadGuard, StripVisitor, Window};
use crate::layout::sen12ms::IGBP_PALETTE;
use crate::layout::sen12tp::WORLDCOVER_PALETTE;
use crate::layout::{Dataset, Modality};
use gdal::Dataset as GdalDataset;

/// Longest side of a kept quicklook, in pixels.
pub const KEPT_SIDE: usize = 512;

/// What `s12_png` calls the quicklook of a file of `modality` of `dataset`, and how it is drawn: an
/// S2 file in true colour (`rgb`: B4, B3, B2), an S1 file's VV (`vv`), a land-cover map in its
/// legend's colours (`worldcover`, `igbp`); None for the other files.
pub fn look_of(dataset: Dataset, modality: &str) -> Option<(&'static str, Look)> {
    let names = dataset.band_names(modality)?;
    let band = |name: &str| names.iter().position(|n| *n == name || n.strip_suffix("_sigma0") == Some(name));
    match dataset.modality(modality)? {
        Modality::S2 => Some(("rgb", Look::Stretched(vec![band("B4")?, band("B3")?, band("B2")?]))),
        Modality::S1 => Some(("vv", Look::Stretched(vec![band("VV")?]))),
        Modality::Worldcover => Some(("worldcover", Look::Classes { band: 0, colours: &WORLDCOVER_PALETTE })),
        Modality::Lc => Some(("igbp", Look::Classes { band: 0, colours: &IGBP_PALETTE })),
        _ => None,
    }
}

/// The modality and look `s12_png` calls `what` in `dataset`.
pub fn look_named(dataset: Dataset, what: &str) -> Option<(Modality, Look)> {
    [Modality::S2, Modality::S1, Modality::Worldcover, Modality::Lc]
        .into_iter()
        .find_map(|m| look_of(dataset, m.name()).filter(|(name, _)| *name == what).map(|(_, look)| (m, look)))
}

/// The quicklook of a whole file as the ingest keeps it, drawn from the file (for a file the ingest
/// kept none of): the same samples, each drawn band's exact 2–98 % over the file.
pub fn draw_whole(dataset: &GdalDataset, look: Look, guard: &mut dyn ReadGuard) -> Result<Option<KeptImage>> {
    let (width, height) = dataset.raster_size();
    let drawn = look.bands();
    let mut accumulators = drawn
        .iter()
        .map(|&b| {
            let band = dataset.rasterband(b + 1).map_err(|e| RasterError::no_band(b + 1, e))?;
            Ok(BandAccumulator::new(band.band_type(), band.no_data_value()))
        })
        .collect::<Result<Vec<_>>>()?;
    let tags: Vec<Option<f64>> = accumulators.iter().map(BandAccumulator::nodata).collect();
    // The drawn bands are read alone: strips' band k is drawn band k.
    let read_look = match &look {
        Look::Stretched(bands) => Look::Stretched((0..bands.len()).collect()),
        Look::Classes { colours, .. } => Look::Classes { band: 0, colours },
    };
    let mut whole = WholeFile { pass: QuicklookPass::new(width, height, read_look), accumulators: &mut accumulators };
    let read: Vec<usize> = drawn.iter().map(|b| b + 1).collect();
    for_each_native_strip(dataset, &read, Window::whole(width, height), guard, &mut whole)?;
    let pass = whole.pass;
    let bounds: Vec<Option<(f64, f64)>> =
        accumulators.into_iter().map(|a| a.finish().summary.map(|s| (s.percentiles[0], s.percentiles[2]))).collect();
    pass.finish(&tags, &bounds)
}

/// A whole file's strips into a quicklook and its drawn bands' statistics.
struct WholeFile<'a> {
    pass: QuicklookPass,
    accumulators: &'a mut [BandAccumulator],
}

impl StripVisitor for WholeFile<'_> {
    fn visit<T: Sample>(&mut self, strips: &[Vec<T>], pixels: usize) {
        for (accumulator, strip) in self.accumulators.iter_mut().zip(strips) {
            accumulator.push(&strip[..pixels].iter().map(|v| (*v).into()).collect::<Vec<f64>>());
        }
        self.pass.add_strip(strips, pixels);
    }
}

/// What a kept quicklook draws.
#[derive(Debug, Clone)]
pub enum Look {
    /// One band as grey or three as RGB (0-based bands), each stretched over its 2–98 %.
    Stretched(Vec<usize>),
    /// The class codes of a band (0-based) in a legend's colours; codes outside it transparent.
    Classes {
        /// The band.
        band: usize,
        /// (class code, colour) of the legend.
        colours: &'static [(u8, [u8; 3])],
    },
}

impl Look {
    /// The 0-based bands the look draws, in drawing order.
    pub fn bands(&self) -> Vec<usize> {
        match self {
            Look::Stretched(bands) => bands.clone(),
            Look::Classes { band, .. } => vec![*band],
        }
    }
}

/// The samples of one file's quicklook, taken strip by strip from the top.
#[derive(Debug, Clone)]
pub struct QuicklookPass {
    look: Look,
    /// `look.bands()`.
    bands: Vec<usize>,
    step: usize,
    source_width: usize,
    source_height: usize,
    width: usize,
    height: usize,
    next_row: usize,
    /// The source column of each quicklook column.
    columns: Vec<usize>,
    /// Per drawn band, the sampled values, row-major.
    samples: Vec<Vec<f64>>,
}

impl QuicklookPass {
    /// The pass of a `width` x `height` file drawn as `look`.
    pub fn new(width: usize, height: usize, look: Look) -> QuicklookPass {
        let step = width.max(height).div_ceil(KEPT_SIDE).max(1);
        let (out_w, out_h) = (width.div_ceil(step), height.div_ceil(step));
        let bands = look.bands();
        let mut pass = QuicklookPass {
            // Each its own room: `vec![v; n]` clones, and a clone of an empty Vec has none.
            samples: (0..bands.len()).map(|_| Vec::with_capacity(out_w * out_h)).collect(),
            bands,
            look,
            step,
            source_width: width,
            source_height: height,
            width: out_w,
            height: out_h,
            next_row: 0,
            columns: Vec::new(),
        };
        pass.columns = (0..out_w).map(|j| pass.source(j, width)).collect();
        pass
    }

    /// The source row or column a quicklook row or column `j` samples.
    fn source(&self, j: usize, extent: usize) -> usize {
        (j * self.step + self.step / 2).min(extent - 1)
    }

    /// Samples the next strip (`pixels` values, whole rows, of every band of the file).
    pub fn add_strip<T: Sample>(&mut self, strips: &[Vec<T>], pixels: usize) {
        let rows = pixels / self.source_width.max(1);
        while self.samples[0].len() < self.width * self.height {
            let out_row = self.samples[0].len() / self.width;
            let y = self.source(out_row, self.source_height);
            if y >= self.next_row + rows {
                break;
            }
            let line = (y - self.next_row) * self.source_width;
            for (samples, &band) in self.samples.iter_mut().zip(&self.bands) {
                let row = &strips[band][line..line + self.source_width];
                if self.step == 1 {
                    // Every pixel: a straight conversion, which the compiler vectorizes.
                    samples.extend(row.iter().map(|v| (*v).into()));
                } else {
                    samples.extend(self.columns.iter().map(|x| row[*x].into()));
                }
            }
        }
        self.next_row += rows;
    }

    /// The quicklook, with the drawn bands' nodata tags and (for a stretched look) their
    /// 2nd and 98th percentiles, encoded as PNG; None when the file was not read to its end.
    pub fn finish(self, tags: &[Option<f64>], bounds: &[Option<(f64, f64)>]) -> Result<Option<KeptImage>> {
        let count = self.width * self.height;
        if self.samples[0].len() != count {
            return Ok(None);
        }
        let png = match &self.look {
            Look::Stretched(_) => {
                let nodata = |i: usize| self.samples.iter().zip(tags).any(|(s, tag)| is_nodata(s[i], *tag));
                let level = |k: usize, i: usize| bounds[k].map_or(0, |range| scale(self.samples[k][i], range));
                // Grey and alpha for one band, RGB and alpha for three: what the look needs, no more.
                // A pixel without data stays all zero, transparent.
                let bands = self.samples.len();
                let mut bytes = vec![0; count * (bands + 1)];
                for (i, pixel) in bytes.chunks_exact_mut(bands + 1).enumerate().filter(|(i, _)| !nodata(*i)) {
                    pixel[..bands].iter_mut().enumerate().for_each(|(k, byte)| *byte = level(k, i));
                    pixel[bands] = 255;
                }
                let colour = if bands == 1 { png::ColorType::GrayscaleAlpha } else { png::ColorType::Rgba };
                encode(self.width, self.height, colour, None, &bytes)?
            }
            Look::Classes { colours, .. } => {
                // Indexed: entry k is the legend's k-th class, the last entry transparent.
                let none = colours.len() as u8;
                let index = |code: f64| colours.iter().position(|(class, _)| f64::from(*class) == code);
                let bytes: Vec<u8> = self.samples[0]
                    .iter()
                    .map(|&code| if is_nodata(code, tags[0]) { none } else { index(code).map_or(none, |k| k as u8) })
                    .collect();
                encode(self.width, self.height, png::ColorType::Indexed, Some(colours), &bytes)?
            }
        };
        Ok(Some(KeptImage { width: self.width, height: self.height, png }))
    }
}

/// A kept quicklook.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptImage {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// The PNG: RGB and alpha, grey and alpha, or indexed with a transparent entry (8 bits).
    pub png: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_2000_px_file_is_sampled_every_fourth_pixel_from_the_middle_of_its_block() {
        let pass = QuicklookPass::new(2000, 1000, Look::Stretched(vec![0]));
        assert_eq!((pass.width, pass.height, pass.step), (500, 250, 4));
        assert_eq!((pass.source(0, 2000), pass.source(499, 2000)), (2, 1998));
        let small = QuicklookPass::new(256, 256, Look::Stretched(vec![0]));
        assert_eq!((small.width, small.step, small.source(255, 256)), (256, 1, 255));
        let odd = QuicklookPass::new(1025, 10, Look::Stretched(vec![0]));
        assert_eq!((odd.step, odd.width, odd.source(341, 1025)), (3, 342, 1024));
    }

    #[test]
    fn strips_of_any_height_give_the_same_samples() {
        let (w, h) = (10, 1030);
        let band: Vec<u16> = (0..w * h).map(|i| i as u16).collect();
        let mut whole = QuicklookPass::new(w, h, Look::Stretched(vec![0]));
        whole.add_strip(std::slice::from_ref(&band), w * h);
        let mut in_strips = QuicklookPass::new(w, h, Look::Stretched(vec![0]));
        for rows in band.chunks(w * 7) {
            in_strips.add_strip(&[rows.to_vec()], rows.len());
        }
        assert_eq!(whole.samples, in_strips.samples);
        assert_eq!(whole.samples[0][..3], [11.0, 14.0, 17.0]); // step 3: row 1, columns 1, 4, 7
    }
}
