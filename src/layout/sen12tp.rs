//! SEN12TP on disk: `sen12tp-metadata.json`, scene folders `{spatial_id}_{scene_id}` and
//! `{scene_id}_{modality}.tif` files (see docs/datasets.md).

use super::error::LayoutError;
use serde_json::Value;

/// The metadata file's name, at the top of the tree.
pub const METADATA_FILE: &str = "sen12tp-metadata.json";

/// The real metadata of all 2319 scenes (Roßberg & Schmitt 2023, CC-BY 4.0), shipped with the crate.
pub const EMBEDDED_METADATA: &str = include_str!("../../data/sen12tp-metadata.json");

/// SEN12TP S1 bands: backscatter in dB (sigma0 and terrain-flattened gamma0) and the incidence angle.
pub const S1_BANDS: [&str; 5] = ["VV_sigma0", "VH_sigma0", "VV_gamma0flat", "VH_gamma0flat", "incAngle"];
/// SEN12TP S2 bands: 12 reflectance bands x 10000 (no B10), then the cloud probability in percent.
pub const S2_BANDS: [&str; 13] =
    ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12", "cloud_probability"];
/// SEN12TP surface model band: metres above sea level.
pub const DSM_BANDS: [&str; 1] = ["DSM"];
/// SEN12TP land-cover band: ESA WorldCover class codes.
pub const WORLDCOVER_BANDS: [&str; 1] = ["Map"];

/// ESA WorldCover v100 classes.
pub const WORLDCOVER_CLASSES: [(u8, &str); 11] = [
    (10, "Tree cover"),
    (20, "Shrubland"),
    (30, "Grassland"),
    (40, "Cropland"),
    (50, "Built-up"),
    (60, "Bare / sparse vegetation"),
    (70, "Snow and ice"),
    (80, "Permanent water bodies"),
    (90, "Herbaceous wetland"),
    (95, "Mangroves"),
    (100, "Moss and lichen"),
];

/// ESA WorldCover's official class colours (product user manual), for quicklooks.
pub const WORLDCOVER_PALETTE: [(u8, [u8; 3]); 11] = [
    (10, [0x00, 0x64, 0x00]),
    (20, [0xff, 0xbb, 0x22]),
    (30, [0xff, 0xff, 0x4c]),
    (40, [0xf0, 0x96, 0xff]),
    (50, [0xfa, 0x00, 0x00]),
    (60, [0xb4, 0xb4, 0xb4]),
    (70, [0xf0, 0xf0, 0xf0]),
    (80, [0x00, 0x64, 0xc8]),
    (90, [0x00, 0x96, 0xa0]),
    (95, [0x00, 0xcf, 0x75]),
    (100, [0xfa, 0xe6, 0xa0]),
];

/// `720_1868` -> (spatial_id 720, scene_id 1868); the pattern `^(\d+)_(\d+)$`.
pub fn parse_scene_dir(name: &str) -> Option<(i64, i64)> {
    let (roi, scene) = name.split_once('_')?;
    Some((parse_digits(roi)?, parse_digits(scene)?))
}

/// `1868_s2.tif` in folder of scene 1868 -> `s2`. The scene id in the file name must match its folder.
pub fn parse_file_name(name: &str, scene_id: i64) -> Option<String> {
    let stem = name.strip_suffix(".tif")?;
    let (id, modality) = stem.split_once('_')?;
    let valid = parse_digits(id)? == scene_id
        && !modality.is_empty()
        && modality.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    valid.then(|| modality.to_string())
}

/// An id of at most 12 digits, in its one spelling (`super::canonical_number`).
fn parse_digits(text: &str) -> Option<i64> {
    super::canonical_number(text, 12).map(|n| n as i64)
}

/// One feature of the metadata, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneMeta {
    /// The ROI (`spatial_id`): scenes of one place share it.
    pub spatial_id: i64,
    /// The scene's id, unique in the dataset.
    pub scene_id: i64,
    /// `train` or `test`: the folder the scene's files are in.
    pub split: String,
    /// The Köppen climate zone the metadata gives.
    pub climate: String,
    /// The dominant land cover the metadata gives.
    pub landcover: String,
    /// S1 acquisition time, Unix milliseconds.
    pub s1_ms: i64,
    /// S2 acquisition time, Unix milliseconds.
    pub s2_ms: i64,
    /// The EPSG code of the scene's UTM zone.
    pub utm_epsg: i64,
    /// The month the metadata gives (1-12).
    pub month: i64,
    /// The outer ring as given, lon/lat, closed.
    pub ring: Vec<[f64; 2]>,
}

impl SceneMeta {
    /// The scene folder's name, `{spatial_id}_{scene_id}`: the catalog's `name`.
    pub fn name(&self) -> String {
        format!("{}_{}", self.spatial_id, self.scene_id)
    }
}

/// The parsed metadata: good scenes, and one message per feature that could not be used.
#[derive(Debug, Default)]
pub struct Metadata {
    /// The features that could be used.
    pub scenes: Vec<SceneMeta>,
    /// One message per feature (or trailing data) that could not be used.
    pub errors: Vec<String>,
}

/// Parses the GeoJSON FeatureCollection. A bad feature is reported and skipped, and so is data
/// after a complete document (an archive tool's padding); a file that is not a FeatureCollection
/// at all is an error.
pub fn parse_metadata(text: &str) -> Result<Metadata, LayoutError> {
    let mut parsed = Metadata::default();
    let mut documents = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let root = match documents.next() {
        Some(Ok(root)) => root,
        Some(Err(e)) => return Err(LayoutError::MetadataJson(e.to_string())),
        None => return Err(LayoutError::MetadataEmpty),
    };
    let end = documents.byte_offset();
    if !text.get(end..).unwrap_or_default().trim().is_empty() {
        parsed
            .errors
            .push(format!("{} bytes after the end of the JSON document at byte {end} ignored", text.len() - end));
    }
    let features = root.get("features").and_then(Value::as_array).ok_or(LayoutError::NotFeatureCollection)?;
    let mut seen = std::collections::HashSet::new();
    for (index, feature) in features.iter().enumerate() {
        match parse_feature(feature) {
            Ok(scene) if !seen.insert(scene.scene_id) => {
                parsed.errors.push(format!("feature {index}: duplicate scene_id {}", scene.scene_id));
            }
            Ok(scene) => parsed.scenes.push(scene),
            Err(message) => parsed.errors.push(format!("feature {index}: {message}")),
        }
    }
    Ok(parsed)
}

fn parse_feature(feature: &Value) -> Result<SceneMeta, String> {
    let props = feature.get("properties").filter(|p| p.is_object()).ok_or("no \"properties\" object")?;
    let int = |key: &str| -> Result<i64, String> {
        let value = props.get(key).ok_or_else(|| format!("missing key \"{key}\""))?;
        value.as_i64().ok_or_else(|| format!("\"{key}\" is not an integer: {value}"))
    };
    let text = |key: &str| -> Result<String, String> {
        let value = props.get(key).ok_or_else(|| format!("missing key \"{key}\""))?;
        value.as_str().map(str::to_string).ok_or_else(|| format!("\"{key}\" is not a string: {value}"))
    };
    let (spatial_id, scene_id) = (int("spatial_id")?, int("scene_id")?);
    if spatial_id < 0 || scene_id < 0 {
        return Err(format!("negative id: spatial_id {spatial_id}, scene_id {scene_id}"));
    }
    let (s1_ms, s2_ms) = (int("s1_timestamp_ms")?, int("s2_timestamp_ms")?);
    for ms in [s1_ms, s2_ms] {
        super::season::iso_millis(ms).ok_or_else(|| format!("timestamp out of range: {ms}"))?;
    }
    let month = int("month")?;
    if !(1..=12).contains(&month) {
        return Err(format!("\"month\" out of range 1..12: {month}"));
    }
    Ok(SceneMeta {
        spatial_id,
        scene_id,
        split: text("split")?,
        climate: text("climate")?,
        landcover: text("landcover")?,
        s1_ms,
        s2_ms,
        utm_epsg: parse_epsg(&text("utm_epsg")?)?,
        month,
        ring: parse_ring(feature.get("geometry"))?,
    })
}

/// `EPSG:32719` -> 32719; only UTM zones on WGS84 (326xx north, 327xx south) are SEN12TP grids.
fn parse_epsg(text: &str) -> Result<i64, String> {
    let code: i64 = text
        .strip_prefix("EPSG:")
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("\"utm_epsg\" is not of the form EPSG:<code>: {text:?}"))?;
    let zone = code % 100;
    if !matches!(code / 100, 326 | 327) || !(1..=60).contains(&zone) {
        return Err(format!("\"utm_epsg\" is not a WGS84 UTM zone: {text:?}"));
    }
    Ok(code)
}

fn parse_ring(geometry: Option<&Value>) -> Result<Vec<[f64; 2]>, String> {
    let geometry = geometry.ok_or("missing \"geometry\"")?;
    let kind = geometry.get("type").and_then(Value::as_str).unwrap_or("");
    if kind != "Polygon" {
        return Err(format!("geometry type is {kind:?}, expected \"Polygon\""));
    }
    let ring = geometry
        .get("coordinates")
        .and_then(|c| c.get(0))
        .and_then(Value::as_array)
        .ok_or("Polygon has no outer ring")?;
    let points: Vec<[f64; 2]> = ring.iter().map(parse_position).collect::<Result<_, _>>()?;
    if points.len() < 4 || points.first() != points.last() {
        return Err(format!("outer ring must be closed with at least 4 positions, has {}", points.len()));
    }
    Ok(points)
}

fn parse_position(position: &Value) -> Result<[f64; 2], String> {
    let pair = position.as_array().filter(|p| p.len() >= 2).ok_or_else(|| format!("bad position {position}"))?;
    let lon = pair[0].as_f64().ok_or_else(|| format!("bad longitude {}", pair[0]))?;
    let lat = pair[1].as_f64().ok_or_else(|| format!("bad latitude {}", pair[1]))?;
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(format!("position out of range: [{lon}, {lat}]"));
    }
    Ok([lon, lat])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scene_dirs_and_file_names_follow_the_dataset_pattern() {
        assert_eq!(parse_scene_dir("720_1868"), Some((720, 1868)));
        assert_eq!(parse_scene_dir("720_"), None);
        assert_eq!(parse_scene_dir("a_1"), None);
        assert_eq!(parse_scene_dir("1_2_3"), None);
        assert_eq!(parse_scene_dir("029_390"), None);
        assert_eq!(parse_scene_dir("0_0"), Some((0, 0)));
        assert_eq!(parse_file_name("1868_s2.tif", 1868).as_deref(), Some("s2"));
        assert_eq!(parse_file_name("1868_worldcover.tif", 1868).as_deref(), Some("worldcover"));
        assert_eq!(parse_file_name("1869_s2.tif", 1868), None);
        assert_eq!(parse_file_name("1868_s2.tif.aux.xml", 1868), None);
    }

    #[test]
    fn the_real_metadata_parses_to_2319_scenes_without_errors() {
        let parsed = parse_metadata(EMBEDDED_METADATA).unwrap();
        assert_eq!(parsed.scenes.len(), 2319);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let first = &parsed.scenes[0];
        assert_eq!((first.spatial_id, first.scene_id, first.utm_epsg), (720, 1868, 32719));
        assert_eq!(first.name(), "720_1868");
        assert_eq!(first.ring.len(), 5);
    }

    #[test]
    fn bad_features_are_reported_and_skipped() {
        let good = concat!(
            r#"{"type":"Feature","properties":{"spatial_id":1,"scene_id":2,"split":"train","climate":"c","#,
            r#""landcover":"l","s1_timestamp_ms":0,"s2_timestamp_ms":0,"utm_epsg":"EPSG:32633","month":1},"#,
            r#""geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}"#
        );
        let text = format!(
            r#"{{"features":[{good},{good},{},{}]}}"#,
            good.replace("EPSG:32633", "EPSG:4326").replace("\"scene_id\":2", "\"scene_id\":3"),
            good.replace("\"scene_id\":2", "\"scene_id\":\"x\"")
        );
        let parsed = parse_metadata(&text).unwrap();
        assert_eq!(parsed.scenes.len(), 1);
        assert_eq!(parsed.errors.len(), 3);
        assert!(parsed.errors[0].contains("duplicate scene_id 2"));
        assert!(parsed.errors[1].contains("not a WGS84 UTM zone"));
        assert!(parsed.errors[2].contains("\"scene_id\" is not an integer"));
        assert!(parse_metadata("{}").is_err());
        assert!(parse_metadata("[1,2").is_err());
    }
}
