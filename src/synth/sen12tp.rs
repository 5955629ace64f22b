//! `sen12lite synth --layout sen12tp`: scenes of the real metadata, written as the dataset is.

use super::geotiff::{centred_placement, write_geotiff, Band};
use super::landscape::{Landscape, Profile, B10};
use super::noise::Rng;
use super::SynthError;
use crate::layout::sen12tp::{parse_metadata, SceneMeta, METADATA_FILE, S1_BANDS, S2_BANDS};
use crate::layout::{ring_center, Modality};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Picks `count` scenes spread over the climates: a round over every climate, then the next.
pub fn pick_scenes(scenes: &[SceneMeta], count: usize, seed: u64) -> Vec<SceneMeta> {
    let mut by_climate: BTreeMap<&str, Vec<&SceneMeta>> = BTreeMap::new();
    for scene in scenes {
        by_climate.entry(scene.climate.as_str()).or_default().push(scene);
    }
    let mut rng = Rng::new(seed);
    for group in by_climate.values_mut() {
        for i in (1..group.len()).rev() {
            group.swap(i, rng.below(i + 1));
        }
    }
    let mut picked = Vec::new();
    for round in 0.. {
        let before = picked.len();
        for group in by_climate.values() {
            if let Some(scene) = group.get(round).filter(|_| picked.len() < count) {
                picked.push((*scene).clone());
            }
        }
        if picked.len() == before {
            break;
        }
    }
    picked
}

/// Writes the metadata file, `count` scenes of `size` px and the scenes `scene_ids` names; returns
/// the written files.
pub fn synth_sen12tp(
    out: &Path,
    metadata_text: &str,
    count: usize,
    scene_ids: &[i64],
    size: usize,
    seed: u64,
) -> Result<Vec<PathBuf>, SynthError> {
    let metadata = parse_metadata(metadata_text)?;
    let mut scenes = pick_scenes(&metadata.scenes, count, seed);
    for id in scene_ids {
        let scene = metadata.scenes.iter().find(|s| s.scene_id == *id);
        let scene =
            scene.ok_or_else(|| SynthError::Options(format!("--scene-id {id}: no such scene in the metadata")))?;
        if !scenes.iter().any(|s| s.scene_id == *id) {
            scenes.push(scene.clone());
        }
    }
    std::fs::create_dir_all(out).map_err(|e| SynthError::Write(format!("cannot create {}: {e}", out.display())))?;
    std::fs::write(out.join(METADATA_FILE), metadata_text)
        .map_err(|e| SynthError::Write(format!("cannot write metadata: {e}")))?;
    let mut written = Vec::new();
    for scene in scenes {
        written.extend(write_scene(out, &scene, size, seed)?);
    }
    Ok(written)
}

fn write_scene(out: &Path, scene: &SceneMeta, size: usize, seed: u64) -> Result<Vec<PathBuf>, SynthError> {
    let dir = out.join(&scene.split).join(scene.name());
    std::fs::create_dir_all(&dir).map_err(|e| SynthError::Write(format!("cannot create {}: {e}", dir.display())))?;
    let [lon, lat] = ring_center(&scene.ring);
    let place = centred_placement(scene.utm_epsg as u32, lon, lat, size)?;
    let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(scene.scene_id as u64));
    let land = Landscape::generate(size, &profile(scene, &mut rng), &mut rng);
    let path = |modality: Modality| dir.join(format!("{}_{}.tif", scene.scene_id, modality.name()));
    let files = [path(Modality::S1), path(Modality::S2), path(Modality::Dsm), path(Modality::Worldcover)];
    write_geotiff(&files[0], &place, radar_bands(&land, &mut rng), Some(f64::NAN), &[])?;
    write_geotiff(&files[1], &place, optical_bands(&land, &mut rng), Some(0.0), &[])?;
    let dsm = land.terrain.iter().map(|h| h.round() as i16).collect();
    write_geotiff(&files[2], &place, vec![Band { name: "DSM", values: dsm }], Some(-32768.0), &[])?;
    let map = Band { name: "Map", values: land.classes.clone() };
    write_geotiff(&files[3], &place, vec![map], Some(0.0), &[])?;
    Ok(files.to_vec())
}

/// The metadata's land-cover label picks the dominant WorldCover class; the rest varies by scene.
fn profile(scene: &SceneMeta, rng: &mut Rng) -> Profile {
    let dominant = match scene.landcover.as_str() {
        "Bare/Moss/Lichen" => 60,
        "Built up" => 50,
        "Cropland" => 40,
        "Forest" => 10,
        "Grassland" => 30,
        "Ice/Snow" => 70,
        "Shrubs" => 20,
        "Wetlands" => 90,
        _ => 30,
    };
    let high = dominant == 70 || scene.climate.starts_with('E');
    Profile {
        dominant,
        cloud_cover: [0.0, 0.0, 0.004, 0.03, 0.12, 0.35][rng.below(6)],
        base_height: if high { 1500.0 } else { 600.0 * rng.uniform() as f32 },
        relief: 50.0 + 1200.0 * rng.uniform() as f32,
        swath_edges: rng.uniform() < 0.35,
    }
}

fn radar_bands(land: &Landscape, rng: &mut Rng) -> Vec<Band<f32>> {
    let vv = land.backscatter(false, rng);
    let vh = land.backscatter(true, rng);
    // Terrain flattening changes sigma0 by a fraction of a dB on gentle slopes.
    let flatten = |sigma: &[f32]| sigma.iter().map(|s| s + 0.6).collect::<Vec<f32>>();
    let (vv_flat, vh_flat) = (flatten(&vv), flatten(&vh));
    let values = [vv, vh, vv_flat, vh_flat, land.incidence_angle()];
    S1_BANDS.iter().zip(values).map(|(name, values)| Band { name, values }).collect()
}

/// B1..B12 without B10 (SEN12TP has none), then the cloud probability in percent.
fn optical_bands(land: &Landscape, rng: &mut Rng) -> Vec<Band<u16>> {
    let reflectance = (0..13).filter(|b| *b != B10).map(|b| land.reflectance(b, rng));
    let cloud =
        land.cloud.iter().zip(&land.optical_gap).map(|(c, gap)| if *gap { 0 } else { c.round() as u16 }).collect();
    S2_BANDS.iter().zip(reflectance.chain([cloud])).map(|(name, values)| Band { name, values }).collect()
}
