//! The datasets, as a type: their names in the catalog, the bands and data types of each
//! modality, and where the S2 measures sit in the band list.

use super::error::LayoutError;
use super::modality::Modality;
use super::{sen12ms, sen12tp};
use gdal::raster::GdalDataType::{self, *};
use std::ops::Range;
use std::str::FromStr;

/// A dataset whose layout sen12lite knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dataset {
    /// SEN12TP: 2000 px scenes with a metadata file (Roßberg & Schmitt 2023).
    Sen12tp,
    /// SEN12MS: 256 px patch triplets in season folders (Schmitt et al. 2019).
    Sen12ms,
    /// SEN12MS-CR: SEN12MS's S1 and S2 with a cloudy S2 of each patch (`s2_cloudy`), in top
    /// folders per season and modality (Ebel et al. 2021).
    Sen12msCr,
}

impl Dataset {
    /// Every dataset, in the order the docs list them.
    pub const ALL: [Dataset; 3] = [Dataset::Sen12tp, Dataset::Sen12ms, Dataset::Sen12msCr];

    /// The name in `scenes.dataset` and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Sen12tp => "sen12tp",
            Dataset::Sen12ms => "sen12ms",
            Dataset::Sen12msCr => "sen12ms-cr",
        }
    }

    /// The dataset of a catalog name; None for anything else.
    pub fn from_name(name: &str) -> Option<Dataset> {
        Dataset::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Pixels a side of one published scene (SEN12TP) or patch (SEN12MS).
    pub fn published_size(self) -> usize {
        match self {
            Dataset::Sen12tp => 2000,
            Dataset::Sen12ms | Dataset::Sen12msCr => 256,
        }
    }

    /// The modality of this dataset named `name`; None for a name it does not have (SEN12TP
    /// catalogues unknown modalities with the file's own band descriptions).
    pub fn modality(self, name: &str) -> Option<Modality> {
        Modality::from_name(name).filter(|m| self.bands_of(*m).is_some())
    }

    /// Band names of a modality of this dataset, in file order; None for a modality it does not have.
    pub fn band_names(self, modality: &str) -> Option<&'static [&'static str]> {
        self.modality(modality).and_then(|m| self.bands_of(m))
    }

    /// GDAL types a modality's files may have; None: any.
    pub fn data_types(self, modality: &str) -> Option<&'static [GdalDataType]> {
        self.modality(modality).map(|m| self.types_of(m))
    }

    fn bands_of(self, modality: Modality) -> Option<&'static [&'static str]> {
        match (self, modality) {
            (Dataset::Sen12tp, Modality::S1) => Some(&sen12tp::S1_BANDS),
            (Dataset::Sen12tp, Modality::S2) => Some(&sen12tp::S2_BANDS),
            (Dataset::Sen12tp, Modality::Dsm | Modality::Dem) => Some(&sen12tp::DSM_BANDS),
            (Dataset::Sen12tp, Modality::Worldcover) => Some(&sen12tp::WORLDCOVER_BANDS),
            (Dataset::Sen12ms, Modality::S1) => Some(&sen12ms::S1_BANDS),
            (Dataset::Sen12ms, Modality::S2) => Some(&sen12ms::S2_BANDS),
            (Dataset::Sen12ms, Modality::Lc) => Some(&sen12ms::LC_BANDS),
            (Dataset::Sen12msCr, Modality::S1) => Some(&sen12ms::S1_BANDS),
            (Dataset::Sen12msCr, Modality::S2 | Modality::S2Cloudy) => Some(&sen12ms::S2_BANDS),
            _ => None,
        }
    }

    /// Every type that holds the values exactly is accepted: SEN12TP does not document its types
    /// (dB and heights are signed, reflectance x 10000 needs 16 bits, class codes are small
    /// integers), and SEN12MS copies exist in more than one encoding (docs/datasets.md): `lc` as
    /// Byte or UInt16, `s2` as UInt16 or Int16, `s1` as Float32 or Float64. A float class map is
    /// not a class map.
    fn types_of(self, modality: Modality) -> &'static [GdalDataType] {
        const SIGNED: &[GdalDataType] = &[Int16, Int32, Float32, Float64];
        match (self, modality) {
            (Dataset::Sen12tp, Modality::S2) => &[UInt16, Int16, UInt32, Int32, Float32, Float64],
            (Dataset::Sen12tp, Modality::Worldcover) => &[UInt8, UInt16, Int16],
            (Dataset::Sen12tp, _) => SIGNED,
            (Dataset::Sen12ms | Dataset::Sen12msCr, Modality::S1) => &[Float32, Float64],
            (Dataset::Sen12ms | Dataset::Sen12msCr, Modality::S2 | Modality::S2Cloudy) => &[UInt16, Int16],
            (Dataset::Sen12ms | Dataset::Sen12msCr, _) => &[UInt8, UInt16],
        }
    }

    /// The modality of the dataset's land-cover map (band 1 holds the class codes); SEN12MS-CR has none.
    pub fn land_cover(self) -> Option<Modality> {
        match self {
            Dataset::Sen12tp => Some(Modality::Worldcover),
            Dataset::Sen12ms => Some(Modality::Lc),
            Dataset::Sen12msCr => None,
        }
    }

    /// Where the S2 file's reflectance, red, NIR and cloud bands are.
    pub fn optical_bands(self) -> OpticalBands {
        match self {
            Dataset::Sen12tp => SEN12TP_OPTICAL,
            Dataset::Sen12ms | Dataset::Sen12msCr => SEN12MS_OPTICAL,
        }
    }
}

impl FromStr for Dataset {
    type Err = LayoutError;

    fn from_str(name: &str) -> Result<Dataset, LayoutError> {
        Dataset::from_name(name).ok_or_else(|| {
            let known: Vec<_> = Dataset::ALL.iter().map(|d| d.name()).collect();
            LayoutError::UnknownDataset { name: name.to_string(), known: known.join(", ") }
        })
    }
}

/// 0-based positions of the bands an S2 file's scene measures use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpticalBands {
    /// The reflectance bands: a pixel is valid where all of them have data.
    pub reflectance: Range<usize>,
    /// B4, the red band of NDVI.
    pub red: usize,
    /// B8, the near-infrared band of NDVI.
    pub nir: usize,
    /// `cloud_probability`, when the dataset ships one.
    pub cloud: Option<usize>,
}

/// SEN12TP's S2: 12 reflectance bands, then the cloud probability.
const SEN12TP_OPTICAL: OpticalBands = OpticalBands {
    reflectance: 0..position(&sen12tp::S2_BANDS, "cloud_probability"),
    red: position(&sen12tp::S2_BANDS, "B4"),
    nir: position(&sen12tp::S2_BANDS, "B8"),
    cloud: Some(position(&sen12tp::S2_BANDS, "cloud_probability")),
};

/// SEN12MS's S2: 13 reflectance bands and no cloud band.
const SEN12MS_OPTICAL: OpticalBands = OpticalBands {
    reflectance: 0..sen12ms::S2_BANDS.len(),
    red: position(&sen12ms::S2_BANDS, "B4"),
    nir: position(&sen12ms::S2_BANDS, "B8"),
    cloud: None,
};

/// Index of `name` in `names`, evaluated at compile time: a band missing from the list is a
/// build error, so the positions above cannot drift from the band lists.
const fn position(names: &[&str], name: &str) -> usize {
    let mut i = 0;
    while i < names.len() {
        if same_bytes(names[i].as_bytes(), name.as_bytes()) {
            return i;
        }
        i += 1;
    }
    panic!("band not in the list")
}

const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for dataset in Dataset::ALL {
            assert_eq!(dataset.name().parse::<Dataset>(), Ok(dataset));
        }
        assert_eq!(
            "SEN12MS".parse::<Dataset>().map_err(|e| e.to_string()),
            Err("unknown dataset 'SEN12MS' (known: sen12tp, sen12ms, sen12ms-cr)".into())
        );
    }

    #[test]
    fn optical_positions_name_the_bands_of_the_lists() {
        let tp = Dataset::Sen12tp.optical_bands();
        assert_eq!((sen12tp::S2_BANDS[tp.red], sen12tp::S2_BANDS[tp.nir]), ("B4", "B8"));
        assert_eq!((tp.reflectance, tp.cloud), (0..12, Some(12)));
        let ms = Dataset::Sen12ms.optical_bands();
        assert_eq!((sen12ms::S2_BANDS[ms.red], sen12ms::S2_BANDS[ms.nir]), ("B4", "B8"));
        assert_eq!((ms.reflectance, ms.cloud), (0..13, None));
    }

    #[test]
    fn each_dataset_has_its_own_modalities() {
        assert_eq!(Dataset::Sen12tp.modality("lc"), None);
        assert_eq!(Dataset::Sen12ms.band_names("worldcover"), None);
        assert_eq!(Dataset::Sen12tp.band_names("dem"), Some(&["DSM"][..]));
        assert_eq!(Dataset::Sen12ms.data_types("lc"), Some(&[UInt8, UInt16][..]));
        assert_eq!(Dataset::Sen12tp.data_types("ndwi"), None);
    }
}
