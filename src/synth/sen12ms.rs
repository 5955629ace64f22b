//! `sen12lite synth --layout sen12ms`: 256 px patch triplets in the SEN12MS season folders.

use super::geotiff::{centred_placement, utm_epsg_of, write_geotiff, Band, Placement};
use super::landscape::{Landscape, Profile};
use super::noise::Rng;
use super::sen12tp::pick_scenes;
use super::LcType;
use super::SynthError;
use crate::layout::sen12ms::{PatchName, LC_BANDS, S1_BANDS, S2_BANDS, SEASON_FOLDERS};
use crate::layout::sen12tp::{parse_metadata, SceneMeta};
use crate::layout::{ring_center, Dataset, Modality};
use std::path::{Path, PathBuf};

/// Triplets a scene folder holds unless asked otherwise: a few, so a small tree spans many UTM zones.
/// The real dataset has about 700 (180,662 patches over 252 scenes).
pub(super) const DEFAULT_PATCHES_PER_SCENE: usize = 3;

/// Patches a row of a scene, side by side: a scene of many patches is a block of rows, about
/// 50 km wide at 256 px, where a single row of 700 would leave its UTM zone.
const PATCHES_PER_ROW: usize = 20;

/// WorldCover class -> MODIS (IGBP, LCCS land cover, LCCS land use, LCCS surface hydrology).
const MODIS_CLASSES: [(u8, [u8; 4]); 11] = [
    (10, [5, 15, 10, 10]),
    (20, [7, 43, 30, 30]),
    (30, [10, 31, 25, 25]),
    (40, [12, 31, 36, 25]),
    (50, [13, 1, 9, 1]),
    (60, [16, 1, 1, 1]),
    (70, [15, 2, 2, 2]),
    (80, [17, 3, 3, 3]),
    (90, [11, 31, 25, 50]),
    (95, [2, 12, 10, 27]),
    (100, [10, 32, 25, 51]),
];

/// Writes `count` triplets, `per_scene` to a scene folder — SEN12MS: s1, s2, lc and
/// `train_list.txt` / `test_list.txt`; SEN12MS-CR: s1, s2 and s2_cloudy in its own folders — and
/// returns the files. Patch locations come from SEN12TP scene centres, so both hemispheres appear.
#[allow(clippy::too_many_arguments)]
pub fn synth_sen12ms(
    out: &Path,
    dataset: Dataset,
    metadata_text: &str,
    count: usize,
    per_scene: usize,
    size: usize,
    seed: u64,
    lc_type: LcType,
) -> Result<Vec<PathBuf>, SynthError> {
    let locations = pick_scenes(&parse_metadata(metadata_text)?.scenes, count.div_ceil(per_scene), seed);
    let (mut written, mut train, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for triplet in 0..count {
        let (scene_index, patch) = (triplet / per_scene, triplet % per_scene);
        let (code, season, _, _) = SEASON_FOLDERS[scene_index % SEASON_FOLDERS.len()];
        let name = |kind: &str| PatchName {
            roi_code: code,
            season: season.to_string(),
            kind: kind.to_string(),
            scene: scene_index as u32 + 1,
            patch: patch as u32 * 7 + 1,
        };
        let place = patch_placement(&locations[scene_index % locations.len()], patch, size)?;
        let mut rng = Rng::new(seed.wrapping_mul(7_919).wrapping_add(triplet as u64));
        let profile = Profile {
            dominant: [40, 10, 30, 50][scene_index % 4],
            cloud_cover: 0.0,
            base_height: 200.0,
            relief: 300.0,
            swath_edges: false,
        };
        let land = Landscape::generate(size, &profile, &mut rng);
        let third = match dataset {
            Dataset::Sen12msCr => Third::CloudyS2,
            _ => Third::LandCover(lc_type),
        };
        written.extend(write_triplet(out, &name, &place, &land, third, &mut rng)?);
        let list = if triplet % 5 == 4 { &mut test } else { &mut train };
        list.push(name(Modality::S2.name()).file_name());
    }
    // SEN12MS-CR ships no split lists.
    let lists =
        if dataset == Dataset::Sen12ms { vec![("train_list.txt", train), ("test_list.txt", test)] } else { vec![] };
    for (file, names) in lists {
        std::fs::write(out.join(file), names.join("\n") + "\n")
            .map_err(|e| SynthError::Write(format!("cannot write {file}: {e}")))?;
    }
    Ok(written)
}

fn patch_placement(location: &SceneMeta, patch: usize, size: usize) -> Result<Placement, SynthError> {
    let [lon, lat] = ring_center(&location.ring);
    let mut place = centred_placement(utm_epsg_of(lon, lat), lon, lat, size)?;
    let pitch = (size * 10) as f64;
    place.left += (patch % PATCHES_PER_ROW) as f64 * pitch;
    place.top -= (patch / PATCHES_PER_ROW) as f64 * pitch;
    Ok(place)
}

/// The third file of a triplet: SEN12MS's land cover, or SEN12MS-CR's cloudy S2.
#[derive(Clone, Copy)]
enum Third {
    LandCover(LcType),
    CloudyS2,
}

/// Cloud cover of a synthetic SEN12MS-CR cloudy patch.
const CLOUDY_COVER: f64 = 0.4;

fn write_triplet(
    out: &Path,
    name: &dyn Fn(&str) -> PatchName,
    place: &Placement,
    land: &Landscape,
    third: Third,
    rng: &mut Rng,
) -> Result<Vec<PathBuf>, SynthError> {
    let cloud_removal = matches!(third, Third::CloudyS2);
    let path = |kind: Modality| -> Result<PathBuf, SynthError> {
        let patch = name(kind.name());
        let dir = out.join(patch.folder(cloud_removal));
        std::fs::create_dir_all(&dir)
            .map_err(|e| SynthError::Write(format!("cannot create {}: {e}", dir.display())))?;
        Ok(dir.join(patch.file_name()))
    };
    let third_kind = if cloud_removal { Modality::S2Cloudy } else { Modality::Lc };
    let files = [path(Modality::S1)?, path(Modality::S2)?, path(third_kind)?];
    let radar = [false, true].map(|cross| land.backscatter(cross, rng));
    write_geotiff(
        &files[0],
        place,
        S1_BANDS.iter().zip(radar).map(|(name, values)| Band { name, values }).collect(),
        None,
        &[],
    )?;
    let optical = (0..13).map(|b| land.reflectance(b, rng));
    write_geotiff(
        &files[1],
        place,
        S2_BANDS.iter().zip(optical).map(|(name, values)| Band { name, values }).collect(),
        None,
        &[],
    )?;
    match third {
        Third::LandCover(lc_type) => write_landcover(&files[2], place, land, lc_type)?,
        Third::CloudyS2 => {
            let cloudy = land.under_clouds(CLOUDY_COVER, rng);
            let optical = (0..13).map(|b| cloudy.reflectance(b, rng));
            let bands = S2_BANDS.iter().zip(optical).map(|(name, values)| Band { name, values }).collect();
            write_geotiff(&files[2], place, bands, None, &[])?;
        }
    }
    Ok(files.to_vec())
}

/// The four MODIS layers, as Byte tagged RGB + alpha (so GDAL reports band 4 as an alpha band, as
/// with the real files we have seen) or as plain UInt16.
fn write_landcover(path: &Path, place: &Placement, land: &Landscape, lc_type: LcType) -> Result<(), SynthError> {
    let layer = |i: usize| land.classes.iter().map(move |c| modis_codes(*c)[i]);
    match lc_type {
        LcType::Byte => {
            let bands = LC_BANDS.iter().enumerate().map(|(i, name)| Band { name, values: layer(i).collect() });
            write_geotiff::<u8>(path, place, bands.collect(), None, &["PHOTOMETRIC=RGB", "ALPHA=YES"])
        }
        LcType::UInt16 => {
            let bands =
                LC_BANDS.iter().enumerate().map(|(i, name)| Band { name, values: layer(i).map(u16::from).collect() });
            write_geotiff::<u16>(path, place, bands.collect(), None, &[])
        }
    }
}

fn modis_codes(worldcover: u8) -> [u8; 4] {
    MODIS_CLASSES.iter().find(|m| m.0 == worldcover).map_or([16, 1, 1, 1], |m| m.1)
}
