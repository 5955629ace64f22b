//! Spectral indices: the SEN12TP authors' definitions and the common ones. Reflectances are the
//! stored digital numbers / 10000 where a formula has constants (EVI, SAVI); normalized
//! differences are scale-free. S1 indices take sigma0 in dB.

use super::error::Result;
use super::optical::nodata_tags;
use super::stats::is_nodata;
use super::strips::{for_each_strip, ReadGuard, Window};
use crate::layout::Modality;
use gdal::Dataset;
/// A spectral index: its name, formula and input bands, and how to compute it.
pub struct IndexDef {
    /// Its name in SQL (`ndvi`), matched case-insensitively.
    pub name: &'static str,
    /// The formula in band names, as `s12_indices` shows it.
    pub formula: &'static str,
    /// The modality whose bands it takes.
    pub modality: Modality,
    /// Band names in the order `compute` takes them (S1 'VV'/'VH' also match 'VV_sigma0'/'VH_sigma0').
    pub bands: &'static [&'static str],
    /// The index of one pixel from its band values, in the order of `bands`.
    pub compute: fn(&[f64]) -> f64,
    /// The values the index can take, when fixed (normalized differences: -1..1): quicklooks
    /// colour that range; None: they stretch each image's own values.
    pub range: Option<(f64, f64)>,
}

/// (a - b) / (a + b): NaN or infinite where a + b is 0.
pub fn normalized_difference(a: f64, b: f64) -> f64 {
    (a - b) / (a + b)
}

fn nd(v: &[f64]) -> f64 {
    normalized_difference(v[0], v[1])
}

const SCALE: f64 = 10_000.0;
const ND_RANGE: Option<(f64, f64)> = Some((-1.0, 1.0));

fn evi(v: &[f64]) -> f64 {
    let (nir, red, blue) = (v[0] / SCALE, v[1] / SCALE, v[2] / SCALE);
    2.5 * (nir - red) / (nir + 6.0 * red - 7.5 * blue + 1.0)
}

fn savi(v: &[f64]) -> f64 {
    let (nir, red) = (v[0] / SCALE, v[1] / SCALE);
    1.5 * (nir - red) / (nir + red + 0.5)
}

fn cross_ratio(v: &[f64]) -> f64 {
    v[1] - v[0]
}

fn rvi(v: &[f64]) -> f64 {
    let (vv, vh) = (10f64.powf(v[0] / 10.0), 10f64.powf(v[1] / 10.0));
    4.0 * vh / (vv + vh)
}

/// Every index `s12_index` computes, in the order `s12_indices` lists them.
pub const INDICES: [IndexDef; 12] = [
    IndexDef {
        name: "ndvi",
        formula: "(B8 - B4) / (B8 + B4)",
        modality: Modality::S2,
        bands: &["B8", "B4"],
        compute: nd,
        range: ND_RANGE,
    },
    IndexDef {
        name: "ndwi",
        formula: "(B3 - B8) / (B3 + B8)",
        modality: Modality::S2,
        bands: &["B3", "B8"],
        compute: nd,
        range: ND_RANGE,
    },
    IndexDef {
        name: "mndwi",
        formula: "(B3 - B11) / (B3 + B11)",
        modality: Modality::S2,
        bands: &["B3", "B11"],
        compute: nd,
        range: ND_RANGE,
    },
    IndexDef {
        name: "ndwi_11",
        formula: "(B8A - B11) / (B8A + B11)",
        modality: Modality::S2,
        bands: &["B8A", "B11"],
        compute: nd,
        range: ND_RANGE,
    },
    IndexDef {
        name: "ndwi_12",
        formula: "(B8A - B12) / (B8A + B12)",
        modality: Modality::S2,
        bands: &["B8A", "B12"],
        compute: nd,
        range: ND_RANGE,
    },
    IndexDef {
        name: "ndre",
        formula: "(B8A - B5) / (B8A + B5)",
        modality: Modality::S2,
        bands: &["B8A", "B5"],
        compute: nd,
        range: ND_RANGE,
    },
    IndexDef {
        name: "gndvi",
        formula: "(B8A - B3) / (B8A + B3)",
        modality: Modality::S2,
        bands: &["B8A", "B3"],
        compute: nd,
        range: ND_RANGE,
    },
    IndexDef {
        name: "nbr",
        formula: "(B8 - B12) / (B8 + B12)",
        modality: Modality::S2,
        bands: &["B8", "B12"],
        compute: nd,
        range: ND_RANGE,
    },
    IndexDef {
        name: "evi",
        formula: "2.5 (NIR - RED) / (NIR + 6 RED - 7.5 BLUE + 1), NIR=B8/1e4, RED=B4/1e4, BLUE=B2/1e4",
        modality: Modality::S2,
        bands: &["B8", "B4", "B2"],
        compute: evi,
        range: None,
    },
    IndexDef {
        name: "savi",
        formula: "1.5 (NIR - RED) / (NIR + RED + 0.5), NIR=B8/1e4, RED=B4/1e4",
        modality: Modality::S2,
        bands: &["B8", "B4"],
        compute: savi,
        range: None,
    },
    IndexDef {
        name: "cr",
        formula: "VH - VV (dB)",
        modality: Modality::S1,
        bands: &["VV", "VH"],
        compute: cross_ratio,
        range: None,
    },
    IndexDef {
        name: "rvi",
        formula: "4 vh / (vv + vh), vv = 10^(VV/10), vh = 10^(VH/10)",
        modality: Modality::S1,
        bands: &["VV", "VH"],
        compute: rvi,
        range: None,
    },
];

/// The index named `name` (any case); None for an unknown name.
pub fn find_index(name: &str) -> Option<&'static IndexDef> {
    INDICES.iter().find(|d| d.name.eq_ignore_ascii_case(name))
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
) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_match_hand_computations() {
        let ndvi = find_index("NDVI").unwrap();
        assert_eq!((ndvi.compute)(&[3000.0, 1000.0]), 0.5);
        assert!(
            ((find_index("evi").unwrap().compute)(&[3000.0, 1000.0, 500.0]) - 2.5 * 0.2 / (0.3 + 0.6 - 0.375 + 1.0))
                .abs()
                < 1e-12
        );
        assert!(((find_index("savi").unwrap().compute)(&[3000.0, 1000.0]) - 1.5 * 0.2 / 0.9).abs() < 1e-12);
        assert_eq!((find_index("cr").unwrap().compute)(&[-10.0, -17.0]), -7.0);
        // VV -10 dB = 0.1, VH -20 dB = 0.01: 4 * 0.01 / 0.11.
        assert!(((find_index("rvi").unwrap().compute)(&[-10.0, -20.0]) - 0.04 / 0.11).abs() < 1e-12);
        assert!(find_index("nope").is_none());
    }
}
