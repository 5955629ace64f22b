//! SEN12MS on disk: `ROIs{code}_{season}/{s1|s2|lc}_{scene}/ROIs{code}_{season}_{kind}_{scene}_p{patch}.tif`.

use super::season::epoch_days_of_date;

/// SEN12MS S1 bands: sigma0 in dB.
pub const S1_BANDS: [&str; 2] = ["VV", "VH"];
/// SEN12MS S2 bands: all 13 Sentinel-2 bands, reflectance x 10000.
pub const S2_BANDS: [&str; 13] = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12"];
/// SEN12MS land-cover bands: the four MODIS classification schemes.
pub const LC_BANDS: [&str; 4] = ["IGBP", "LCCS_LC", "LCCS_LU", "LCCS_SH"];

/// A calendar day: (year, month, day).
pub type Day = (i32, u32, u32);

/// The four season folders: (ROI code, folder season, first day, last day of acquisition).
pub const SEASON_FOLDERS: [(u32, &str, Day, Day); 4] = [
    (1158, "spring", (2017, 3, 1), (2017, 5, 30)),
    (1868, "summer", (2017, 6, 1), (2017, 8, 31)),
    (1970, "fall", (2017, 9, 1), (2017, 11, 30)),
    (2017, "winter", (2016, 12, 1), (2017, 2, 28)),
];

/// IGBP land-cover classes (MODIS MCD12Q1), the `lc` band 1.
pub const IGBP_CLASSES: [(u8, &str); 17] = [
    (1, "Evergreen Needleleaf Forests"),
    (2, "Evergreen Broadleaf Forests"),
    (3, "Deciduous Needleleaf Forests"),
    (4, "Deciduous Broadleaf Forests"),
    (5, "Mixed Forests"),
    (6, "Closed Shrublands"),
    (7, "Open Shrublands"),
    (8, "Woody Savannas"),
    (9, "Savannas"),
    (10, "Grasslands"),
    (11, "Permanent Wetlands"),
    (12, "Croplands"),
    (13, "Urban and Built-up Lands"),
    (14, "Cropland/Natural Vegetation Mosaics"),
    (15, "Permanent Snow and Ice"),
    (16, "Barren"),
    (17, "Water Bodies"),
];

/// One patch file of SEN12MS, decoded from its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PatchName {
    /// The season folder's code: 1158, 1868, 1970 or 2017.
    pub roi_code: u32,
    /// The folder's season name: spring, summer, fall or winter.
    pub season: String,
    /// The modality: `s1`, `s2` or `lc`.
    pub kind: String,
    /// The scene number within the season.
    pub scene: u32,
    /// The patch number within the scene.
    pub patch: u32,
}

impl PatchName {
    /// The triplet's name, shared by its s1, s2 and lc files: `ROIs1158_spring_1_p30`.
    pub fn triplet(&self) -> String {
        format!("ROIs{}_{}_{}_p{}", self.roi_code, self.season, self.scene, self.patch)
    }

    /// The file's name: `ROIs1158_spring_s2_1_p30.tif`.
    pub fn file_name(&self) -> String {
        format!("ROIs{}_{}_{}_{}_p{}.tif", self.roi_code, self.season, self.kind, self.scene, self.patch)
    }

    /// A scene_id that depends only on the name, so re-ingests and partial trees agree:
    /// 1e9 + folder (1..4) * 1e8 + scene * 1e4 + patch. Above SEN12TP's ids (0..2321).
    pub fn scene_id(&self) -> i64 {
        let folder = SEASON_FOLDERS.iter().position(|f| f.1 == self.season).unwrap_or(0) as i64 + 1;
        1_000_000_000 + folder * 100_000_000 + self.scene as i64 * 10_000 + self.patch as i64
    }

    /// Acquisition window of the season folder, in days since 1970-01-01 (end of the last day).
    pub fn day_window(&self) -> (f64, f64) {
        let (_, _, start, end) =
            SEASON_FOLDERS.iter().find(|f| f.1 == self.season).copied().unwrap_or(SEASON_FOLDERS[0]);
        let day = |(y, m, d): (i32, u32, u32)| epoch_days_of_date(y, m, d).unwrap_or(f64::NAN);
        (day(start), day(end) + 1.0)
    }
}

/// Decodes `ROIs1158_spring_s2_1_p30.tif` (regex
/// `^ROIs(\d{4})_(spring|summer|fall|winter)_(s1|s2|lc)_(\d+)_p(\d+)\.tif$`, numbers below 10000
/// without leading zeros, the code one of the four season folders': one name per patch).
pub fn parse_patch_file(name: &str) -> Option<PatchName> {
    let rest = name.strip_prefix("ROIs")?.strip_suffix(".tif")?;
    let mut parts = rest.split('_');
    let roi_code = parts.next().filter(|c| c.len() == 4).and_then(small_number)?;
    let season = parts.next()?;
    let kind = parts.next()?;
    let scene = parts.next()?;
    let patch = parts.next()?.strip_prefix('p')?;
    if parts.next().is_some()
        || !SEASON_FOLDERS.iter().any(|f| (f.0, f.1) == (roi_code, season))
        || super::Dataset::Sen12ms.band_names(kind).is_none()
    {
        return None;
    }
    Some(PatchName {
        roi_code,
        season: season.to_string(),
        kind: kind.to_string(),
        scene: small_number(scene)?,
        patch: small_number(patch)?,
    })
}

/// 0..9999 in its one spelling (`super::canonical_number`), so `p030` cannot alias `p30`.
fn small_number(text: &str) -> Option<u32> {
    super::canonical_number(text, 4).map(|n| n as u32)
}

/// `ROIs1158_spring` -> true: a season folder, the mark of a SEN12MS tree.
pub fn is_season_folder(name: &str) -> bool {
    SEASON_FOLDERS.iter().any(|(code, season, _, _)| name == format!("ROIs{code}_{season}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_names_decode_and_encode() {
        let p = parse_patch_file("ROIs1158_spring_s2_1_p30.tif").unwrap();
        assert_eq!((p.roi_code, p.season.as_str(), p.kind.as_str(), p.scene, p.patch), (1158, "spring", "s2", 1, 30));
        assert_eq!(p.triplet(), "ROIs1158_spring_1_p30");
        assert_eq!(p.file_name(), "ROIs1158_spring_s2_1_p30.tif");
        assert_eq!(p.scene_id(), 1_100_010_030);
        for bad in [
            "ROIs1158_spring_s3_1_p30.tif",
            "ROIs1158_monsoon_s2_1_p30.tif",
            "ROIs1158_spring_s2_1_30.tif",
            "ROIs1158_spring_s2_1_p30.tif.aux.xml",
            "ROIs158_spring_s2_1_p30.tif",
            "ROIs1158_spring_s2_1_p30_x.tif",
            "ROIs1158_spring_s2_123456_p30.tif",
            "ROIs1158_spring_s2_01_p30.tif",
            "ROIs1158_spring_s2_1_p030.tif",
            "ROIs1868_spring_s2_1_p30.tif",
        ] {
            assert_eq!(parse_patch_file(bad), None, "{bad}");
        }
    }

    #[test]
    fn season_windows_match_the_acquisition_periods() {
        let winter = parse_patch_file("ROIs2017_winter_lc_5_p1.tif").unwrap();
        // 2016-12-01 is day 17136; 2017-02-28 is day 17225, so the window ends at 17226.
        assert_eq!(winter.day_window(), (17136.0, 17226.0));
        assert!(is_season_folder("ROIs1970_fall"));
        assert!(!is_season_folder("ROIs1970_autumn"));
    }
}
