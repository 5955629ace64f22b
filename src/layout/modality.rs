//! The modalities of the two datasets: a file's kind, with its bands and the GDAL types that can
//! hold its values.

use super::{sen12ms, sen12tp};

/// A modality sen12lite knows. The catalog keeps the name as found on disk; SEN12TP files of
/// other modalities are catalogued too, without these rules. Which dataset has which modality,
/// with what bands, is [`Dataset`](super::Dataset)'s to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modality {
    /// Sentinel-1 backscatter.
    S1,
    /// Sentinel-2 reflectance (and SEN12TP's cloud probability).
    S2,
    /// SEN12TP's surface model.
    Dsm,
    /// The same surface model under the name the authors' loader also knows.
    Dem,
    /// SEN12TP's ESA WorldCover map.
    Worldcover,
    /// SEN12MS's land cover (IGBP and LCCS).
    Lc,
    /// SEN12MS-CR's cloudy Sentinel-2 patch, beside the clear `s2` of the same place.
    S2Cloudy,
}

impl Modality {
    /// Every modality.
    pub const ALL: [Modality; 7] = [
        Modality::S1,
        Modality::S2,
        Modality::Dsm,
        Modality::Dem,
        Modality::Worldcover,
        Modality::Lc,
        Modality::S2Cloudy,
    ];

    /// The name in file names and in `files.modality`.
    pub fn name(self) -> &'static str {
        match self {
            Modality::S1 => "s1",
            Modality::S2 => "s2",
            Modality::Dsm => "dsm",
            Modality::Dem => "dem",
            Modality::Worldcover => "worldcover",
            Modality::Lc => "lc",
            Modality::S2Cloudy => "s2_cloudy",
        }
    }

    /// The modality of a name; None for a name sen12lite has no rules for.
    pub fn from_name(name: &str) -> Option<Modality> {
        Modality::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The legend of a land-cover modality; None for the others.
    pub fn legend(self) -> Option<Legend> {
        match self {
            Modality::Worldcover => Some(Legend { source: "worldcover", classes: &sen12tp::WORLDCOVER_CLASSES }),
            Modality::Lc => Some(Legend { source: "igbp", classes: &sen12ms::IGBP_CLASSES }),
            _ => None,
        }
    }

    /// Whether the catalog's modality name `name` is this modality.
    pub fn is(self, name: &str) -> bool {
        self.name() == name
    }
}

/// A land-cover classification: its name in `landcover.source`, and its classes (code, label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Legend {
    /// `worldcover` (ESA WorldCover v100) or `igbp` (MODIS MCD12Q1, SEN12MS's `lc` band 1).
    pub source: &'static str,
    /// (class code, label), in code order.
    pub classes: &'static [(u8, &'static str)],
}

impl Legend {
    /// The label of a class code; None for a code outside the legend.
    pub fn label(&self, class: i64) -> Option<&'static str> {
        self.classes.iter().find(|(code, _)| i64::from(*code) == class).map(|(_, label)| *label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for modality in Modality::ALL {
            assert_eq!(Modality::from_name(modality.name()), Some(modality));
        }
        assert_eq!(Modality::from_name("S2"), None);
    }
}
