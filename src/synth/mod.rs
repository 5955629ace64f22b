//! `sen12lite synth`: deterministic test data in the exact layout of the real datasets.

mod archives;
pub mod error;
pub(crate) mod geotiff;
mod landscape;
mod noise;
pub mod sen12ms;
pub mod sen12tp;

use crate::layout::Dataset;
use crate::verify::write_md5sums;
pub use error::SynthError;
use std::path::Path;
use std::str::FromStr;

/// What to write: how many scenes (SEN12TP) or patch triplets (SEN12MS), how many pixels a side,
/// from which seed, and in which type SEN12MS land cover is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthOptions {
    /// Scenes or triplets with pixels.
    pub scenes: usize,
    /// Pixels a side.
    pub size: usize,
    /// The same seed writes the same pixels.
    pub seed: u64,
    /// SEN12MS `lc` files' type (the other datasets have none).
    pub lc_type: LcType,
    /// SEN12MS triplets a scene folder holds, all in the scene's UTM zone (None: a few, so that a
    /// small tree spans many zones). SEN12TP has no patches.
    pub patches_per_scene: Option<usize>,
    /// Pack the rasters into the archives users download instead of leaving them unpacked.
    pub archives: bool,
    /// SEN12TP scenes (`scene_id`s of the metadata) written besides the `scenes` picked.
    pub scene_ids: Vec<i64>,
}

/// The two encodings of SEN12MS land cover in circulation: Byte tagged RGB + alpha, as the files we
/// have seen, or UInt16, as the dataset's description says and other tools write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LcType {
    /// 8-bit, PHOTOMETRIC=RGB with band 4 an alpha band.
    Byte,
    /// 16-bit, no colour interpretation.
    UInt16,
}

impl FromStr for LcType {
    type Err = SynthError;

    fn from_str(name: &str) -> Result<LcType, SynthError> {
        match name {
            "byte" => Ok(LcType::Byte),
            "uint16" => Ok(LcType::UInt16),
            other => Err(SynthError::Options(format!("unknown land-cover type '{other}' (known: byte, uint16)"))),
        }
    }
}

/// Writes a tree of `dataset`'s layout and its `md5sums.txt` (or, with `archives`, the downloads
/// holding it); returns the number of raster files written.
pub fn synth(out: &Path, dataset: Dataset, metadata_text: &str, options: &SynthOptions) -> Result<usize, SynthError> {
    let SynthOptions { scenes, size, seed, lc_type, patches_per_scene, archives, ref scene_ids } = *options;
    if !(16..=20_000).contains(&size) {
        return Err(SynthError::Options(format!("--size must be between 16 and 20000 pixels, got {size}")));
    }
    match (dataset, patches_per_scene) {
        (_, Some(0)) => return Err(SynthError::Options("--patches-per-scene must be at least 1, got 0".into())),
        (Dataset::Sen12tp, Some(_)) => {
            return Err(SynthError::Options(
                "--patches-per-scene is for SEN12MS; a SEN12TP scene is one set of files".into(),
            ))
        }
        _ => {}
    }
    std::fs::create_dir_all(out).map_err(|e| SynthError::Write(format!("cannot create {}: {e}", out.display())))?;
    let files = match dataset {
        Dataset::Sen12tp => sen12tp::synth_sen12tp(out, metadata_text, scenes, scene_ids, size, seed)?,
        Dataset::Sen12ms | Dataset::Sen12msCr if !scene_ids.is_empty() => {
            return Err(SynthError::Options(
                "--scene-id names SEN12TP scenes; SEN12MS patches are picked by --scenes".into(),
            ))
        }
        Dataset::Sen12ms | Dataset::Sen12msCr => {
            let per_scene = patches_per_scene.unwrap_or(sen12ms::DEFAULT_PATCHES_PER_SCENE);
            sen12ms::synth_sen12ms(out, dataset, metadata_text, scenes, per_scene, size, seed, lc_type)?
        }
    };
    if archives {
        archives::pack(out, dataset, &files)?;
    } else {
        write_md5sums(out, &files)?;
    }
    Ok(files.len())
}
