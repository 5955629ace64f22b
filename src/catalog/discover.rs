//! Finding a dataset below a folder: SEN12TP metadata and scene folders, SEN12MS patch files,
//! wherever the archives were unpacked.

use crate::layout::{sen12ms, sen12tp, Dataset};
use std::collections::hash_map::{Entry, HashMap};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// The scene a file belongs to.
#[derive(Debug, Clone, PartialEq)]
pub enum SceneKey {
    /// A SEN12TP scene folder `{spatial_id}_{scene_id}`.
    Sen12tp {
        /// The ROI of the folder's name.
        spatial_id: i64,
        /// The scene of the folder's name.
        scene_id: i64,
    },
    /// A SEN12MS patch triplet, named by any of its files.
    Sen12ms(sen12ms::PatchName),
}

impl SceneKey {
    /// The dataset whose layout the file was found in.
    pub fn dataset(&self) -> Dataset {
        match self {
            SceneKey::Sen12tp { .. } => Dataset::Sen12tp,
            SceneKey::Sen12ms(_) => Dataset::Sen12ms,
        }
    }

    /// The catalog's `scene_id` of the file's scene.
    pub fn scene_id(&self) -> i64 {
        match self {
            SceneKey::Sen12tp { scene_id, .. } => *scene_id,
            SceneKey::Sen12ms(patch) => patch.scene_id(),
        }
    }
}

/// A raster file found on disk.
#[derive(Debug, Clone)]
pub struct FoundFile {
    /// Where the file is, under the data root as the ingest was given it.
    pub path: PathBuf,
    /// Relative to the data root, with '/' separators: the catalog's `files.path`.
    pub relative: String,
    /// The scene the file's name and folder place it in.
    pub scene: SceneKey,
    /// The modality its name gives (`s1`, `s2`, ...), as the catalog stores it.
    pub modality: String,
    /// Its size: with `mtime_ns`, what tells an unchanged file on the next run.
    pub bytes: u64,
    /// Its modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
}

/// What a walk below the data root found.
#[derive(Debug, Default)]
pub struct Found {
    /// SEN12TP metadata files (`sen12tp-metadata.json`); the first one is used.
    pub metadata_files: Vec<PathBuf>,
    /// SEN12MS split lists: (`train` or `test`, the list's path).
    pub split_lists: Vec<(String, PathBuf)>,
    /// `md5sums.txt` lists.
    pub checksum_lists: Vec<PathBuf>,
    /// The raster files whose names place them in a scene.
    pub files: Vec<FoundFile>,
    /// (relative path, message) for things that look like data but cannot be used.
    pub problems: Vec<(String, String)>,
}

/// Walks `root` in name order. Symlinked folders are not followed (no loops, no escapes);
/// symlinked files are, if they stay inside the root or `follow_symlinks` allows leaving it.
pub fn discover(root: &Path, follow_symlinks: bool) -> Result<Found, String> {
    let mut found = Found::default();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut entries: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).collect(),
            Err(e) => {
                found.problems.push((relative(root, &dir), format!("cannot list folder: {e}")));
                continue;
            }
        };
        entries.sort();
        report_empty_scene_folder(root, &dir, &entries, &mut found);
        for path in entries.into_iter().rev() {
            let Ok(link) = std::fs::symlink_metadata(&path) else { continue };
            if link.is_dir() {
                pending.push(path);
            } else if link.file_type().is_symlink() && path.is_dir() {
                found.problems.push((relative(root, &path), "symlinked folder not followed".into()));
            } else {
                // Folders are walked without following symlinks, so only a symlinked file can
                // lead out of the root: only those are resolved.
                let check_escape = link.file_type().is_symlink() && !follow_symlinks;
                classify(root, &path, check_escape, &mut found);
            }
        }
    }
    found.files.sort_by(|a, b| a.relative.cmp(&b.relative));
    set_aside_second_copies(&mut found);
    Ok(found)
}

/// An archive unpacked twice puts two files on one (scene, modality) row: the first in path order
/// is catalogued, the others are reported instead of overwriting it on every run.
fn set_aside_second_copies(found: &mut Found) {
    let mut first: HashMap<(i64, String), String> = HashMap::new();
    let mut kept = Vec::with_capacity(found.files.len());
    for file in std::mem::take(&mut found.files) {
        match first.entry((file.scene.scene_id(), file.modality.clone())) {
            Entry::Occupied(original) => {
                let message = format!(
                    "a second copy of scene {}'s {}: {} is the one catalogued",
                    file.scene.scene_id(),
                    file.modality,
                    original.get()
                );
                found.problems.push((file.relative, message));
            }
            Entry::Vacant(slot) => {
                slot.insert(file.relative.clone());
                kept.push(file);
            }
        }
    }
    found.files = kept;
}

/// A SEN12TP scene folder without a single GeoTIFF is most likely a failed unpack: say so.
fn report_empty_scene_folder(root: &Path, dir: &Path, entries: &[PathBuf], found: &mut Found) {
    let Some((_, scene_id)) = dir.file_name().and_then(|n| n.to_str()).and_then(sen12tp::parse_scene_dir) else {
        return;
    };
    if !entries.iter().any(|p| p.extension().is_some_and(|e| e == "tif")) {
        let message = format!("scene folder has no files (expected {scene_id}_s1.tif, {scene_id}_s2.tif, ...)");
        found.problems.push((relative(root, dir), message));
    }
}

fn classify(root: &Path, path: &Path, check_escape: bool, found: &mut Found) {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let parent = path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or("");
    match name {
        sen12tp::METADATA_FILE => return found.metadata_files.push(path.to_path_buf()),
        crate::verify::MD5SUMS_FILE => return found.checksum_lists.push(path.to_path_buf()),
        "train_list.txt" => return found.split_lists.push(("train".into(), path.to_path_buf())),
        "test_list.txt" => return found.split_lists.push(("test".into(), path.to_path_buf())),
        _ if !name.ends_with(".tif") => return,
        _ => {}
    }
    let scene = if let Some((spatial_id, scene_id)) = sen12tp::parse_scene_dir(parent) {
        match sen12tp::parse_file_name(name, scene_id) {
            Some(modality) => Some((SceneKey::Sen12tp { spatial_id, scene_id }, modality)),
            None => {
                let message = format!("file name is not {scene_id}_<modality>.tif in scene folder {parent}");
                return found.problems.push((relative(root, path), message));
            }
        }
    } else {
        sen12ms::parse_patch_file(name).map(|p| (p.kind.clone(), p)).map(|(kind, p)| (SceneKey::Sen12ms(p), kind))
    };
    let Some((scene, modality)) = scene else { return };
    match regular_file(root, path, check_escape) {
        Ok(meta) => {
            let mtime_ns =
                meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as i64);
            let relative = relative(root, path);
            found.files.push(FoundFile {
                path: path.to_path_buf(),
                relative,
                scene,
                modality,
                bytes: meta.len(),
                mtime_ns,
            });
        }
        Err(message) => found.problems.push((relative(root, path), message)),
    }
}

/// The metadata of a file the ingest may read: a regular file (a FIFO or device would block or
/// never end), and with `check_escape` one that resolves to a place inside the root.
fn regular_file(root: &Path, path: &Path, check_escape: bool) -> Result<std::fs::Metadata, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot stat: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if check_escape {
        let real = path.canonicalize().map_err(|e| format!("cannot resolve: {e}"))?;
        if !real.starts_with(root) {
            return Err(format!(
                "symlink leads outside the data folder (to {}); pass --follow-symlinks to allow it",
                real.display()
            ));
        }
    }
    Ok(meta)
}

/// `path` relative to `root` with `/` separators, as the catalog stores paths.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}
