//! `sen12lite synth`: deterministic test data in the exact layout of the real datasets.

mod geotiff;
mod landscape;
mod noise;
pub mod sen12ms;
pub mod sen12tp;

use crate::layout::Dataset;
use crate::verify::write_md5sums;
use std::path::Path;

/// Writes a tree of `dataset`'s layout and its `md5sums.txt`; returns the number of raster files written.
pub fn synth(
    out: &Path,
    dataset: Dataset,
    metadata_text: &str,
    scenes: usize,
    size: usize,
    seed: u64,
) -> Result<usize, String> {
    if !(16..=20_000).contains(&size) {
        return Err(format!("synth: --size must be between 16 and 20000 pixels, got {size}"));
    }
    std::fs::create_dir_all(out).map_err(|e| format!("synth: cannot create {}: {e}", out.display()))?;
    let files = match dataset {
        Dataset::Sen12tp => sen12tp::synth_sen12tp(out, metadata_text, scenes, size, seed)?,
        Dataset::Sen12ms => sen12ms::synth_sen12ms(out, metadata_text, scenes, size, seed)?,
    };
    write_md5sums(out, &files)?;
    Ok(files.len())
}
