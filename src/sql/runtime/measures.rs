//! What a value is read as: a band of a file, or a spectral index computed from its bands, and
//! which bands of a resolved file that takes.

use super::arguments::fail;
use super::resolve::Target;
use crate::raster::indices::{find_index, IndexDef, INDICES};
use crate::raster::optical::cloud_band;

/// The index `name` names; an error listing the known ones.
pub fn index_def(function: &str, name: &str) -> rusqlite::Result<&'static IndexDef> {
    find_index(name).ok_or_else(|| {
        let known: Vec<&str> = INDICES.iter().map(|d| d.name).collect();
        fail(
            function,
            format!("unknown index '{}' (known: {})", name.chars().take(40).collect::<String>(), known.join(", ")),
        )
    })
}

/// What a value is read as: a band of the file, or an index computed from its bands.
pub enum Measure {
    /// A band, by name or number (resolved per file).
    Band(String),
    /// A spectral index of the modality.
    Index(&'static IndexDef),
}

/// An index of `modality` when `band` names one, else the band itself (checked per file).
pub fn measure_of(function: &str, modality: &str, band: &str) -> rusqlite::Result<Measure> {
    match find_index(band) {
        Some(def) if def.modality.is(modality) => Ok(Measure::Index(def)),
        Some(def) => {
            Err(fail(function, format!("{} is an index of {}, not of {modality}", def.name, def.modality.name())))
        }
        None => Ok(Measure::Band(band.to_string())),
    }
}

/// The bands of a file a measure is read from, 1-based.
pub struct Bands {
    /// The band, or the index's inputs.
    pub inputs: Inputs,
    /// cloud_probability, whose value over the threshold hides the pixel: none for a file without
    /// a cloud band, nor when the cloud band itself is asked for.
    pub cloud: Option<usize>,
}

/// The band of a measure, or the index with its input bands.
pub enum Inputs {
    /// One band.
    Band(usize),
    /// An index and its input bands, in the order its formula takes them.
    Index(&'static IndexDef, Vec<usize>),
}

impl Bands {
    /// The bands of `target` that `measure` needs; an error naming `function` for a band it lacks.
    pub fn of(function: &str, target: &Target, measure: &Measure) -> rusqlite::Result<Bands> {
        let inputs = match measure {
            Measure::Band(name) => Inputs::Band(target.band(function, name)?),
            Measure::Index(def) => {
                Inputs::Index(def, def.bands.iter().map(|b| target.band(function, b)).collect::<rusqlite::Result<_>>()?)
            }
        };
        let cloud =
            cloud_band(&target.band_names).filter(|&cloud| !matches!(inputs, Inputs::Band(band) if band == cloud));
        Ok(Bands { inputs, cloud })
    }
}
