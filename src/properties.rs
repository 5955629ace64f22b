//! What must hold for any input to the parsers of names, metadata and user geometries, and to the
//! ingest's scan of one GeoTIFF. Each function panics when a property breaks and never otherwise:
//! the cargo-fuzz targets (`fuzz/`) call them with libFuzzer's inputs, `tests/parsers.rs` with
//! mutations of real inputs.

use crate::catalog::DEFAULT_CLOUD_THRESHOLD;
use crate::geometry::parse::parse_geometry;
use crate::layout::{season, sen12ms, sen12tp, Dataset};
use crate::raster::kept_quicklook::{look_of, KEPT_SIDE};
use crate::raster::scan::{scan_file, Measures, ScanRequest, ScanScratch};
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
            assert!(
                (1..=4).contains(&decoded.0)
                    && decoded.1 == i64::from(patch.scene)
                    && decoded.2 == i64::from(patch.patch)
            );
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

/// The SEN12MS modalities `check_scan` scans a file as, chosen by the input's first byte.
pub const SCANNED_AS: [&str; 3] = ["s1", "s2", "lc"];

/// The ingest's whole scan of one GeoTIFF (header checks, statistics, S2 measures or class counts,
/// footprint, patch grid, quicklook), from memory as the ingest reads archive members, either
/// refuses the file or gives what the catalog can store: a statistics row per band with
/// min <= p02 <= p50 <= p98 <= max and the mean between, fractions in 0..=1, counts that add up, a
/// closed footprint of finite positions and a quicklook PNG of at most KEPT_SIDE px. The first
/// byte chooses the modality (`SCANNED_AS`); the rest is the file. True when the file was accepted.
pub fn check_scan(data: &[u8]) -> bool {
    let Some((&choice, file)) = data.split_first() else { return false };
    if file.is_empty() {
        return false; // GDAL frees what it is given, and an empty vector's address was never allocated
    }
    let modality = SCANNED_AS[choice as usize % SCANNED_AS.len()];
    let dataset = Dataset::Sen12ms;
    let request = ScanRequest {
        expected_bands: dataset.band_names(modality),
        expected_dtypes: dataset.data_types(modality),
        measures: Measures::of(dataset, modality, DEFAULT_CLOUD_THRESHOLD),
        statistics: true,
        footprint: true,
        patch_grid: Some(DEFAULT_CLOUD_THRESHOLD),
        quicklook: look_of(dataset, modality).map(|(_, look)| look),
    };
    let name = crate::raster::open::unique_vsimem_path("fuzz", "tif");
    if gdal::vsi::create_mem_file(&name, file.to_vec()).is_err() {
        return false;
    }
    let scanned = scan_file(std::path::Path::new(&name), &request, &mut ScanScratch::default());
    let _ = gdal::vsi::unlink_mem_file(&name);
    let Ok(scan) = scanned else { return false };
    assert_eq!(scan.band_stats.len(), scan.band_names.len(), "a statistics row per band");
    let pixels = scan.info.width as u64 * scan.info.height as u64;
    for stats in &scan.band_stats {
        assert_eq!(stats.valid_count + stats.nodata_count, pixels, "valid and nodata pixels add up");
        if let Some(s) = &stats.summary {
            let [p02, p50, p98] = s.percentiles;
            assert!(s.min <= p02 && p02 <= p50 && p50 <= p98 && p98 <= s.max, "quantiles out of order: {s:?}");
            assert!(s.min <= s.mean && s.mean <= s.max && s.stddev >= 0.0, "mean or stddev out of range: {s:?}");
        }
    }
    if let Some(optical) = &scan.optical {
        for fraction in [optical.valid_fraction, optical.cloud_fraction].into_iter().flatten() {
            assert!((0.0..=1.0).contains(&fraction), "fraction {fraction} out of 0..=1");
        }
    }
    if let Some(classes) = &scan.classes {
        assert!(classes.iter().map(|(_, n)| n).sum::<u64>() <= pixels, "more classified pixels than pixels");
    }
    if let Some(ring) = &scan.footprint {
        assert!(ring.len() >= 4 && ring.first() == ring.last(), "open footprint {ring:?}");
        assert!(ring.iter().flatten().all(|v| v.is_finite()), "footprint with a non-finite position {ring:?}");
    }
    if let Some(image) = &scan.quicklook {
        assert!(image.png.starts_with(b"\x89PNG") && image.width.max(image.height) <= KEPT_SIDE, "bad quicklook");
    }
    true
}
