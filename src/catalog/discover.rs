//! Finding a dataset below a folder: SEN12TP metadata and scene folders, SEN12MS patch files,
//! wherever the archives were unpacked.

use super::{CatalogError, CatalogResult};
use crate::layout::{is_archive, sen12ms, sen12tp, Dataset};
use crate::raster::vsi::{self, Stat};
use crate::raster::RasterError;
use std::collections::hash_map::{Entry, HashMap};
use std::path::{Component, Path, PathBuf};
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
    /// A SEN12MS-CR patch triplet (s1, s2, s2_cloudy), in its top folders per season and kind.
    Sen12msCr(sen12ms::PatchName),
}

impl SceneKey {
    /// The dataset whose layout the file was found in.
    pub fn dataset(&self) -> Dataset {
        match self {
            SceneKey::Sen12tp { .. } => Dataset::Sen12tp,
            SceneKey::Sen12ms(_) => Dataset::Sen12ms,
            SceneKey::Sen12msCr(_) => Dataset::Sen12msCr,
        }
    }

    /// The patch of a SEN12MS or SEN12MS-CR file; None for SEN12TP.
    pub fn patch(&self) -> Option<&sen12ms::PatchName> {
        match self {
            SceneKey::Sen12tp { .. } => None,
            SceneKey::Sen12ms(patch) | SceneKey::Sen12msCr(patch) => Some(patch),
        }
    }

    /// The catalog's `scene_id` of the file's scene.
    pub fn scene_id(&self) -> i64 {
        match self {
            SceneKey::Sen12tp { scene_id, .. } => *scene_id,
            SceneKey::Sen12ms(patch) | SceneKey::Sen12msCr(patch) => patch.scene_id(),
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
    /// What reading it moves the progress by: its size, or for a member of a compressed archive
    /// its share of the archive's size (progress then counts the archive's bytes).
    pub progress_bytes: u64,
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
    /// SEN12MS `seasons.csv` files; the first one is used.
    pub season_lists: Vec<PathBuf>,
    /// The raster files whose names place them in a scene (with `archives::expand`, also the
    /// members of the archives).
    pub files: Vec<FoundFile>,
    /// Archives (the downloads, not unpacked), whose members `archives::expand` adds to `files`.
    pub archives: Vec<OnDisk>,
    /// (relative path, message) for things that look like data but cannot be used.
    pub problems: Vec<(String, String)>,
    /// Members of downloaded archives whose file is also unpacked beside them (a download as users
    /// keep it): the unpacked copy is catalogued, these are not read, and that is no problem.
    pub archived_copies: Vec<String>,
    /// What was there instead of data, for the message of a tree with nothing to ingest.
    pub unused: Unused,
}

/// A file on disk or in object storage: where it is, as the catalog names it, and its size and time.
#[derive(Debug, Clone)]
pub struct OnDisk {
    /// Its path under the data root as the ingest was given it.
    pub path: PathBuf,
    /// Relative to the data root, with `/` separators.
    pub relative: String,
    /// Its size and modification time.
    pub stat: Stat,
}

/// Files and folders a walk passed over: archives, rasters of other names, the root's folders.
#[derive(Debug, Default)]
pub struct Unused {
    /// Archives with no dataset file in them.
    pub archives: Vec<String>,
    /// GeoTIFFs whose names are not a dataset's.
    pub rasters: Vec<String>,
    /// The folders right under the root.
    pub folders: Vec<String>,
}

/// The first `shown` names of a list, then how many more: `a, b, c and 9 more`.
pub(super) fn first_names(names: &[String], shown: usize) -> String {
    let listed = names.iter().take(shown).cloned().collect::<Vec<_>>().join(", ");
    match names.len().saturating_sub(shown) {
        0 => listed,
        more => format!("{listed} and {more} more"),
    }
}

/// Names a message about what a folder holds shows.
const NAMES_SHOWN: usize = 3;

/// `1 archive`, `2 archives`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

impl Found {
    /// None when the tree has something to ingest (a metadata file or a dataset file); else what
    /// the walk looked for and what it found instead.
    pub fn nothing_to_ingest(&self) -> Option<String> {
        if !self.files.is_empty() || !self.metadata_files.is_empty() {
            return None;
        }
        let unused = &self.unused;
        let mut instead = Vec::new();
        if !unused.archives.is_empty() {
            let archives = first_names(&unused.archives, NAMES_SHOWN);
            instead.push(format!("{} without a dataset file ({archives})", count(unused.archives.len(), "archive")));
        }
        if !unused.rasters.is_empty() {
            let rasters = first_names(&unused.rasters, NAMES_SHOWN);
            instead.push(format!("{} of other names ({rasters})", count(unused.rasters.len(), "GeoTIFF")));
        }
        if !unused.folders.is_empty() {
            instead.push(format!("folders {}", first_names(&unused.folders, NAMES_SHOWN)));
        }
        let instead = if instead.is_empty() { "nothing".to_string() } else { instead.join("; ") };
        Some(format!(
            "nothing to ingest: looked for {} and SEN12TP scene folders ({{spatial_id}}_{{scene_id}}/\
             {{scene_id}}_s2.tif, ...) or SEN12MS patches (ROIs1158_spring/s2_1/ROIs1158_spring_s2_1_p30.tif, \
             ...), found {instead}",
            sen12tp::METADATA_FILE
        ))
    }
}

/// Walks `root` in name order. Symlinked folders are not followed (no loops, no escapes);
/// symlinked files are, if they stay inside the root or `follow_symlinks` allows leaving it.
pub fn discover(root: &Path, follow_symlinks: bool) -> CatalogResult<Found> {
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
        if dir == root {
            found.unused.folders = entries.iter().filter(|p| p.is_dir()).map(|p| relative(root, p)).collect();
        }
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
                classify(root, &path, |path| regular_file(root, path, check_escape), &mut found);
            }
        }
    }
    Ok(in_order(found))
}

/// Lists a tree in object storage through GDAL (`VSIReadDirRecursive`: an S3, GCS or Azure
/// listing, or an HTTP server's index page). An HTTP server without one names its files in the
/// root's `md5sums.txt`, beside which the metadata file and lists are looked for by name.
pub fn discover_remote(root: &Path) -> CatalogResult<Found> {
    let mut names = vsi::list_files(root).unwrap_or_default();
    if names.is_empty() {
        names = names_from_checksums(root)?;
    }
    let mut found = Found::default();
    let mut folders: Vec<String> = names.iter().filter_map(|n| n.split_once('/')).map(|(top, _)| top.into()).collect();
    folders.dedup();
    found.unused.folders = folders;
    for name in names {
        let stat = |path: &Path| match vsi::stat(path) {
            Ok(stat) if stat.is_file => Ok(stat),
            Ok(_) => Err("not a regular file".to_string()),
            Err(RasterError::Unreadable { reason, .. }) => Err(format!("cannot stat: {reason}")),
            Err(e) => Err(format!("cannot stat: {e}")),
        };
        classify(root, &root.join(name), stat, &mut found);
    }
    Ok(in_order(found))
}

/// The files a tree without a listing names: those of its `md5sums.txt`, and the side files of
/// the datasets' roots (metadata, split lists, seasons) that are there.
fn names_from_checksums(root: &Path) -> CatalogResult<Vec<String>> {
    let listing = root.join(crate::verify::MD5SUMS_FILE);
    let listed = crate::verify::read_md5sums(&listing).map_err(|e| {
        CatalogError::Ingest(format!(
            "cannot list {}: no listing from the server, and no {} at its top ({e})",
            root.display(),
            crate::verify::MD5SUMS_FILE
        ))
    })?;
    let side_files =
        [crate::verify::MD5SUMS_FILE, sen12tp::METADATA_FILE, sen12ms::SEASONS_FILE, "train_list.txt", "test_list.txt"];
    let present =
        side_files.iter().filter(|name| vsi::stat(&root.join(name)).is_ok()).map(std::string::ToString::to_string);
    // Only plain paths below the root: a line naming `/vsis3/other/...` or `../x` is not followed.
    let inside = |name: &String| Path::new(name).components().all(|c| matches!(c, Component::Normal(_)));
    let listed = listed.into_iter().map(|(_, path)| path.trim_start_matches("./").to_string()).filter(inside);
    let mut names: Vec<String> = listed.chain(present).collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// The walk's findings in the order the ingest relies on: files by path, one file per scene
/// and modality.
fn in_order(mut found: Found) -> Found {
    found.files.sort_by(|a, b| a.relative.cmp(&b.relative));
    found.unused.rasters.sort();
    set_aside_second_copies(&mut found);
    found
}

/// Two files on one (scene, modality) row: the first in path order is catalogued (an unpacked file
/// sorts before the archive it came in). A member of a downloaded archive beside its unpacked copy
/// is how users keep a download, and is only noted; any other second copy (an archive unpacked
/// twice) is reported instead of overwriting the first on every run.
pub(super) fn set_aside_second_copies(found: &mut Found) {
    let mut first: HashMap<(i64, String), String> = HashMap::new();
    let mut kept = Vec::with_capacity(found.files.len());
    for file in std::mem::take(&mut found.files) {
        match first.entry((file.scene.scene_id(), file.modality.clone())) {
            Entry::Occupied(original) if in_archive(&file.relative) && !in_archive(original.get()) => {
                found.archived_copies.push(file.relative);
            }
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

/// Whether a catalog path names a member of an archive (`ROIs1158_spring_s2.tar.gz/...`).
fn in_archive(relative: &str) -> bool {
    relative.rsplit_once('/').is_some_and(|(folders, _)| folders.split('/').any(is_archive))
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

/// What a file is, by its name and the two folders it is in (the same rules on disk and inside an
/// archive).
pub enum Recognised {
    /// `sen12tp-metadata.json`.
    Metadata,
    /// `md5sums.txt`.
    Checksums,
    /// `train_list.txt` or `test_list.txt`: the split it gives.
    SplitList(&'static str),
    /// SEN12MS's `seasons.csv`.
    SeasonList,
    /// A download not unpacked: `.tar.gz`, `.tgz`, `.tar`, `.zip`.
    Archive,
    /// A dataset file: its scene and modality.
    Raster(SceneKey, String),
    /// A file in a SEN12TP scene folder whose name does not fit it: why.
    Misnamed(String),
    /// A GeoTIFF of no dataset's name.
    OtherRaster,
    /// Anything else: not ours.
    Other,
}

/// Recognises `name` in the folder `parent`, itself in `top` (empty when there is none).
pub fn recognise(top: &str, parent: &str, name: &str) -> Recognised {
    match name {
        sen12tp::METADATA_FILE => return Recognised::Metadata,
        crate::verify::MD5SUMS_FILE => return Recognised::Checksums,
        "train_list.txt" => return Recognised::SplitList("train"),
        "test_list.txt" => return Recognised::SplitList("test"),
        sen12ms::SEASONS_FILE => return Recognised::SeasonList,
        _ if is_archive(name) => return Recognised::Archive,
        _ if name.ends_with(".tiff") => return Recognised::OtherRaster,
        _ if !name.ends_with(".tif") => return Recognised::Other,
        _ => {}
    }
    if let Some((spatial_id, scene_id)) = sen12tp::parse_scene_dir(parent) {
        return match sen12tp::parse_file_name(name, scene_id) {
            Some(modality) => Recognised::Raster(SceneKey::Sen12tp { spatial_id, scene_id }, modality),
            None => {
                Recognised::Misnamed(format!("file name is not {scene_id}_<modality>.tif in scene folder {parent}"))
            }
        };
    }
    match sen12ms::parse_patch_file(name) {
        Some(patch) => {
            let key = patch_key(&format!("{top}/{parent}"), &patch);
            Recognised::Raster(key, patch.kind)
        }
        None => Recognised::OtherRaster,
    }
}

/// Files `path` by its name; `stat` gives the size and time of a file the ingest may read, or
/// why it may not.
fn classify(root: &Path, path: &Path, stat: impl FnOnce(&Path) -> Result<Stat, String>, found: &mut Found) {
    let folder = |p: Option<&Path>| p.and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned());
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let (parent, top) = (folder(path.parent()), folder(path.parent().and_then(Path::parent)));
    let path_buf = path.to_path_buf();
    match recognise(top.as_deref().unwrap_or(""), parent.as_deref().unwrap_or(""), name) {
        Recognised::Metadata => found.metadata_files.push(path_buf),
        Recognised::Checksums => found.checksum_lists.push(path_buf),
        Recognised::SplitList(split) => found.split_lists.push((split.to_string(), path_buf)),
        Recognised::SeasonList => found.season_lists.push(path_buf),
        Recognised::Archive => match stat(path) {
            Ok(stat) => found.archives.push(OnDisk { path: path_buf, relative: relative(root, path), stat }),
            Err(message) => found.problems.push((relative(root, path), message)),
        },
        Recognised::Raster(scene, modality) => match stat(path) {
            Ok(stat) => found.files.push(FoundFile {
                path: path_buf,
                relative: relative(root, path),
                scene,
                modality,
                bytes: stat.bytes,
                mtime_ns: stat.mtime_ns,
                progress_bytes: stat.bytes,
            }),
            Err(message) => found.problems.push((relative(root, path), message)),
        },
        Recognised::Misnamed(message) => found.problems.push((relative(root, path), message)),
        Recognised::OtherRaster => found.unused.rasters.push(relative(root, path)),
        Recognised::Other => {}
    }
}

/// Whether a local file is no longer the one listed (its size or time changed): then what was read
/// of it may mix two versions. Members of archives (`/vsitar/`, `/vsizip/`) and remote objects are
/// not asked again.
pub fn changed_since_listed(file: &FoundFile) -> bool {
    if crate::raster::open::is_virtual(&file.path) {
        return false;
    }
    std::fs::metadata(&file.path).map_or(true, |meta| meta.len() != file.bytes || mtime_ns(&meta) != file.mtime_ns)
}

/// A file's modification time in nanoseconds since the Unix epoch (0 when unknown).
fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as i64)
}

/// SEN12MS-CR when the file sits in its layout's folders (or is a cloudy S2), else SEN12MS.
fn patch_key(folders: &str, patch: &sen12ms::PatchName) -> SceneKey {
    if folders == patch.folder(true) || patch.kind == "s2_cloudy" {
        SceneKey::Sen12msCr(patch.clone())
    } else {
        SceneKey::Sen12ms(patch.clone())
    }
}

/// The size and time of a file the ingest may read: a regular file (a FIFO or device would block
/// or never end), and with `check_escape` one that resolves to a place inside the root.
fn regular_file(root: &Path, path: &Path, check_escape: bool) -> Result<Stat, String> {
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
    Ok(Stat { bytes: meta.len(), mtime_ns: mtime_ns(&meta), is_file: true })
}

/// `path` relative to `root` with `/` separators, as the catalog stores paths.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}
