//! The two datasets as they are on disk: names, bands, classes, seasons (docs/datasets.md).

pub mod season;
pub mod sen12ms;
pub mod sen12tp;

/// Mean of a closed ring's distinct corners: the centre of a (near-)parallelogram footprint.
pub fn ring_center(ring: &[[f64; 2]]) -> [f64; 2] {
    let corners = &ring[..ring.len().saturating_sub(1).max(1)];
    let mean = |axis: usize| corners.iter().map(|p| p[axis]).sum::<f64>() / corners.len() as f64;
    [mean(0), mean(1)]
}
