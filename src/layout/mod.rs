//! The datasets as they are on disk — SEN12TP, SEN12MS and SEN12MS-CR: names, bands, classes, seasons
//! (docs/datasets.md).

pub mod dataset;
pub mod error;
pub mod modality;
pub mod season;
pub mod sen12ms;
pub mod sen12tp;

pub use dataset::{Dataset, OpticalBands};
pub use error::LayoutError;
pub use modality::{Legend, Modality};

/// Whether a file name is one of the archives the datasets are downloaded as (SEN12MS's
/// `.tar.gz`, SEN12TP's `.zip`; also `.tgz` and `.tar`).
pub fn is_archive(name: &str) -> bool {
    [".tar.gz", ".tgz", ".tar", ".zip"].iter().any(|suffix| name.ends_with(suffix))
}

/// Mean of a closed ring's distinct corners: the centre of a (near-)parallelogram footprint.
pub fn ring_center(ring: &[[f64; 2]]) -> [f64; 2] {
    let corners = &ring[..ring.len().saturating_sub(1).max(1)];
    let mean = |axis: usize| corners.iter().map(|p| p[axis]).sum::<f64>() / corners.len() as f64;
    [mean(0), mean(1)]
}

/// A non-negative number as the datasets write ids: 1 to `max_digits` ASCII digits, no sign and
/// no leading zero, so each number has one spelling and `0390` cannot alias `390`.
fn canonical_number(text: &str, max_digits: usize) -> Option<u64> {
    let canonical = text == "0" || (!text.starts_with('0') && (1..=max_digits).contains(&text.len()));
    if !canonical || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
