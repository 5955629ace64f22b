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

/// The colours of the IGBP classes: the MODIS land-cover legend as Google Earth Engine's
/// `MODIS/061/MCD12Q1` `LC_Type1` gives it, the palette most SEN12MS users have seen.
pub const IGBP_PALETTE: [(u8, [u8; 3]); 17] = [
    (1, [0x05, 0x45, 0x0a]),
    (2, [0x08, 0x6a, 0x10]),
    (3, [0x54, 0xa7, 0x08]),
    (4, [0x78, 0xd2, 0x03]),
    (5, [0x00, 0x99, 0x00]),
    (6, [0xc6, 0xb0, 0x44]),
    (7, [0xdc, 0xd1, 0x59]),
    (8, [0xda, 0xde, 0x48]),
    (9, [0xfb, 0xff, 0x13]),
    (10, [0xb6, 0xff, 0x05]),
    (11, [0x27, 0xff, 0x87]),
    (12, [0xc2, 0x4f, 0x44]),
    (13, [0xa5, 0xa5, 0xa5]),
    (14, [0xff, 0x6d, 0x4c]),
    (15, [0x69, 0xff, 0xf8]),
    (16, [0xf9, 0xff, 0xa4]),
    (17, [0x1c, 0x0d, 0xff]),
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

    /// The file's folder below the data root: `ROIs1158_spring/s2_1` in SEN12MS, and in SEN12MS-CR,
    /// whose top folders are per season and kind, `ROIs1158_spring_s2_cloudy/s2_cloudy_1`.
    pub fn folder(&self, cloud_removal_layout: bool) -> String {
        let top = format!("ROIs{}_{}", self.roi_code, self.season);
        let top = if cloud_removal_layout { format!("{top}_{}", self.kind) } else { top };
        format!("{top}/{}_{}", self.kind, self.scene)
    }

    /// The scene's key in `seasons.csv`: `ROIs1158_spring_1`, shared by the scene's patches.
    pub fn scene_key(&self) -> String {
        format!("ROIs{}_{}_{}", self.roi_code, self.season, self.scene)
    }

    /// A scene_id that depends only on the name, so re-ingests and partial trees agree:
    /// 1e9 + folder (1..4) * 1e8 + scene * 1e4 + patch. Above SEN12TP's ids (0..2321).
    pub fn scene_id(&self) -> i64 {
        let folder = SEASON_FOLDERS.iter().position(|f| f.1 == self.season).unwrap_or(0) as i64 + 1;
        1_000_000_000 + folder * 100_000_000 + i64::from(self.scene) * 10_000 + i64::from(self.patch)
    }

    /// Acquisition window of the season folder, in days since 1970-01-01 (end of the last day).
    pub fn day_window(&self) -> (f64, f64) {
        folder_window(SEASON_FOLDERS.iter().find(|f| f.1 == self.season).unwrap_or(&SEASON_FOLDERS[0]))
    }
}

/// Acquisition window of a triplet's season folder, from its name (`ROIs1158_spring_1_p30`), in
/// days since 1970-01-01 (end of the last day); None for a name of no season folder.
pub fn triplet_day_window(triplet: &str) -> Option<(f64, f64)> {
    let folder =
        SEASON_FOLDERS.iter().find(|(code, season, _, _)| triplet.starts_with(&format!("ROIs{code}_{season}_")));
    folder.map(folder_window)
}

fn folder_window(&(_, _, start, end): &(u32, &str, Day, Day)) -> (f64, f64) {
    let day = |(y, m, d): Day| epoch_days_of_date(y, m, d).unwrap_or(f64::NAN);
    (day(start), day(end) + 1.0)
}

/// The kinds of patch file: SEN12MS's three, and SEN12MS-CR's cloudy S2.
pub const KINDS: [&str; 4] = ["s1", "s2", "lc", "s2_cloudy"];

/// Decodes `ROIs1158_spring_s2_1_p30.tif` (regex
/// `^ROIs(\d{4})_(spring|summer|fall|winter)_(s1|s2|lc|s2_cloudy)_(\d+)_p(\d+)\.tif$`, numbers below
/// 10000 without leading zeros, the code one of the four season folders': one name per patch).
pub fn parse_patch_file(name: &str) -> Option<PatchName> {
    let rest = name.strip_prefix("ROIs")?.strip_suffix(".tif")?;
    let (code, rest) = rest.split_once('_')?;
    let (season, rest) = rest.split_once('_')?;
    // The kind may hold an underscore itself (s2_cloudy): scene and patch are the last two parts.
    let mut tail = rest.rsplitn(3, '_');
    let patch = tail.next()?.strip_prefix('p')?;
    let scene = tail.next()?;
    let kind = tail.next()?;
    let roi_code = Some(code).filter(|c| c.len() == 4).and_then(small_number)?;
    if !SEASON_FOLDERS.iter().any(|f| (f.0, f.1) == (roi_code, season)) || !KINDS.contains(&kind) {
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

/// The file with the real season of each scene, shipped with SEN12MS (docs/datasets.md).
pub const SEASONS_FILE: &str = "seasons.csv";

/// `seasons.csv`: the real season of each scene, by scene key (`ROIs1158_spring_1`, the season
/// folder and scene number of [`PatchName::scene_key`]), in the catalog's season names.
#[derive(Debug, Default, PartialEq)]
pub struct TrueSeasons {
    /// Scene key -> `spring`, `summer`, `autumn` or `winter`.
    pub seasons: std::collections::HashMap<String, &'static str>,
    /// One message per line that could not be used.
    pub errors: Vec<String>,
}

/// Parses `seasons.csv` as the loaders that use it read it: columns `scene` and `true_season`
/// (other columns ignored, any order), or without a header `scene,season`. A scene is written
/// `ROIs1158_spring_1` or with a modality, `ROIs1158_spring_s2_1`; a season `fall` or `autumn`,
/// in any case.
pub fn parse_true_seasons(text: &str) -> TrueSeasons {
    let mut parsed = TrueSeasons::default();
    let mut lines = text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()).peekable();
    let header =
        lines.peek().map(|(_, line)| cells(line)).filter(|c| c.iter().any(|c| c.eq_ignore_ascii_case("scene")));
    let (scene_at, season_at) = match &header {
        Some(names) => {
            let find = |name: &str| names.iter().position(|c| c.eq_ignore_ascii_case(name));
            let season = find("true_season").or_else(|| find("season"));
            match (find("scene"), season) {
                (Some(scene), Some(season)) => (scene, season),
                _ => {
                    parsed.errors.push("the header has no 'true_season' or 'season' column".into());
                    return parsed;
                }
            }
        }
        None => (0, 1),
    };
    for (number, line) in lines.skip(usize::from(header.is_some())) {
        let row = cells(line);
        let (scene, season) = (row.get(scene_at).copied().unwrap_or(""), row.get(season_at).copied().unwrap_or(""));
        match (scene_key(scene), catalog_season(season)) {
            (Some(key), Some(season)) => {
                parsed.seasons.insert(key, season);
            }
            _ => parsed.errors.push(format!("line {}: not a scene and a season: {line:?}", number + 1)),
        }
    }
    parsed
}

fn cells(line: &str) -> Vec<&str> {
    line.split(',').map(|c| c.trim().trim_matches('"')).collect()
}

/// `ROIs1158_spring_1` or `ROIs1158_spring_s2_1` -> `ROIs1158_spring_1`, for one of the four
/// season folders.
fn scene_key(text: &str) -> Option<String> {
    let parts: Vec<&str> = text.split('_').collect();
    let (folder, scene) = match parts.as_slice() {
        [code, season, scene] | [code, season, "s1" | "s2" | "lc", scene] => (format!("{code}_{season}"), *scene),
        _ => return None,
    };
    (is_season_folder(&folder) && small_number(scene).is_some()).then(|| format!("{folder}_{scene}"))
}

/// A season as a person writes it -> the catalog's name.
fn catalog_season(text: &str) -> Option<&'static str> {
    let text = text.to_ascii_lowercase();
    super::season::SEASONS.iter().copied().find(|s| *s == text).or((text == "fall").then_some("autumn"))
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
        assert_eq!(p.folder(false), "ROIs1158_spring/s2_1");
        let cloudy = parse_patch_file("ROIs1158_spring_s2_cloudy_1_p30.tif").unwrap();
        assert_eq!((cloudy.kind.as_str(), cloudy.triplet()), ("s2_cloudy", p.triplet()));
        assert_eq!(cloudy.folder(true), "ROIs1158_spring_s2_cloudy/s2_cloudy_1");
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
            "ROIs1158_spring_s2_warm_1_p30.tif",
            "ROIs1158_spring_s2_cloudy_1_p30_x.tif",
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

    #[test]
    fn true_seasons_read_with_or_without_a_header() {
        let with = parse_true_seasons("scene,true_season\nROIs1158_spring_1,summer\nROIs1970_fall_s2_12,Fall\n");
        let expected = [("ROIs1158_spring_1".to_string(), "summer"), ("ROIs1970_fall_12".to_string(), "autumn")];
        assert_eq!(with.seasons, expected.into_iter().collect());
        assert!(with.errors.is_empty());
        let without =
            parse_true_seasons("ROIs1158_spring_1, summer\r\nROIs1970_fall_12,autumn\n\nROIs1234_spring_1,x\n");
        assert_eq!(without.seasons, with.seasons);
        assert_eq!(without.errors, ["line 4: not a scene and a season: \"ROIs1234_spring_1,x\""]);
        let other_order = parse_true_seasons("id,true_season,scene\n7,winter,ROIs2017_winter_3\n");
        assert_eq!(other_order.seasons.get("ROIs2017_winter_3"), Some(&"winter"));
        assert_eq!(parse_true_seasons("scene,label\n").errors, ["the header has no 'true_season' or 'season' column"]);
    }
}
