//! What must hold for any input to the parsers of names, metadata and user geometries. Each
//! function panics when a property breaks and never otherwise: the cargo-fuzz targets (`fuzz/`)
//! call them with libFuzzer's inputs, `tests/parsers.rs` with mutations of real inputs.

use crate::geometry::parse::parse_geometry;
use crate::layout::{season, sen12ms, sen12tp};
use geo::CoordsIter;

/// The metadata parser either refuses the text or returns scenes that the catalog can store:
/// unique ids, closed rings of in-range coordinates, valid months, timestamps and UTM codes.
pub fn check_metadata(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(metadata) = sen12tp::parse_metadata(text) else { return };
    let mut ids = std::collections::HashSet::new();
    for scene in &metadata.scenes {
        assert!(ids.insert(scene.scene_id), "duplicate scene_id {} accepted", scene.scene_id);
        assert!(scene.scene_id >= 0 && scene.spatial_id >= 0, "negative id accepted: {scene:?}");
        assert!((1..=12).contains(&scene.month), "month {} accepted", scene.month);
        assert!(matches!(scene.utm_epsg / 100, 326 | 327), "EPSG {} accepted", scene.utm_epsg);
        assert!(season::iso_millis(scene.s1_ms).is_some() && season::iso_millis(scene.s2_ms).is_some());
        assert!(
            scene.ring.len() >= 4 && scene.ring.first() == scene.ring.last(),
            "open ring accepted: {:?}",
            scene.ring
        );
        for [lon, lat] in &scene.ring {
            assert!((-180.0..=180.0).contains(lon) && (-90.0..=90.0).contains(lat), "position [{lon}, {lat}] accepted");
        }
    }
}

/// Every accepted name is the one name of what it decodes to, so two files never alias one
/// catalog row: the parsers and the formatters are inverse on accepted names.
pub fn check_names(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for name in text.split(['/', '\n']).chain([text.as_ref()]) {
        if let Some((spatial_id, scene_id)) = sen12tp::parse_scene_dir(name) {
            assert_eq!(format!("{spatial_id}_{scene_id}"), name, "scene folder name is not canonical");
        }
        let prefix_id = name.split('_').next().and_then(|id| id.parse::<i64>().ok());
        if let Some(modality) = prefix_id.and_then(|id| sen12tp::parse_file_name(name, id).map(|m| (id, m))) {
            assert_eq!(format!("{}_{}.tif", modality.0, modality.1), name, "file name is not canonical");
            assert!(modality.1.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        }
        if let Some(patch) = sen12ms::parse_patch_file(name) {
            assert_eq!(patch.file_name(), name, "patch name is not canonical");
            let id = patch.scene_id() - 1_000_000_000;
            let decoded = (id / 100_000_000, id / 10_000 % 10_000, id % 10_000);
            assert!((1..=4).contains(&decoded.0) && decoded.1 == patch.scene as i64 && decoded.2 == patch.patch as i64);
        }
    }
}

/// A user geometry (GeoJSON or WKT) either is refused or has only finite lon/lat in range.
pub fn check_geometry(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(geometry) = parse_geometry(text) else { return };
    for c in geometry.coords_iter() {
        assert!(
            (-180.0..=180.0).contains(&c.x) && (-90.0..=90.0).contains(&c.y),
            "coordinate ({}, {}) accepted",
            c.x,
            c.y
        );
    }
}
