//! Open datasets kept by one owner (a connection's `s12_` functions), least recently used first
//! out, so a query over many windows of a few scenes opens each file once.
//!
//! A cached dataset is used only while it is still the file it was opened from (same device,
//! inode, size and mtime): a file replaced on disk (a new download, then a re-ingest) is opened
//! afresh, and a read during which the file changed is refused (it may mix the two versions).
//! After a fork the child never touches a dataset its parent opened: their file
//! descriptors, and so their file offsets, are shared with the parent, and concurrent reads through
//! them return wrong pixels without an error. The child forgets them (never closes: closing runs
//! GDAL code on the parent's objects) and opens its own.

use super::error::{RasterError, Result};
use super::open::{archive_member, is_virtual, open_geotiff, QuietGdal};
use super::tiles::RawTiles;
use super::watch::FileWatch;
use gdal::Dataset;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

const OPEN_DATASETS: usize = 16;
/// Why a read whose file changed under it is refused.
pub const CHANGED: &str = "the file changed while it was read (a download or a copy over it?): read it again";

/// What tells one file at a path from another put there later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileIdentity {
    device: u64,
    inode: u64,
    bytes: u64,
    mtime_ns: i128,
}

impl FileIdentity {
    /// The identity of the file on disk behind a GDAL path: for a member of an archive
    /// (`/vsitar/{archive}/{member}`), the archive's.
    pub fn of(path: &Path) -> Result<FileIdentity> {
        let file = file_on_disk(path);
        if is_virtual(&file) {
            return FileIdentity::of_remote(&file);
        }
        let meta = std::fs::metadata(&file).map_err(|e| RasterError::unreadable(path, e))?;
        let mtime_ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
        Ok(FileIdentity { device: meta.dev(), inode: meta.ino(), bytes: meta.size(), mtime_ns })
    }
}

/// The file on disk behind a GDAL path: for a member of an archive (`/vsitar/{archive}/{member}`),
/// the archive.
fn file_on_disk(path: &Path) -> PathBuf {
    archive_member(path).map_or_else(|| path.to_path_buf(), |(archive, _)| archive)
}

/// Writes to the file on disk behind a GDAL path (its archive's for a member), as the kernel
/// reports them; None for a remote file, or where the kernel will not watch it.
pub fn watch_file(path: &Path) -> Option<FileWatch> {
    let file = file_on_disk(path);
    (!is_virtual(&file)).then(|| FileWatch::begin(&file)).flatten()
}

/// A file as a read found it: its identity, and the kernel's watch of its writes since.
struct Version {
    identity: FileIdentity,
    watch: Option<FileWatch>,
}

impl Version {
    fn of(path: &Path) -> Result<Version> {
        // Watched first: a write under way while the identity is taken is reported as it ends.
        let watch = watch_file(path);
        Ok(Version { identity: FileIdentity::of(path)?, watch })
    }

    /// Whether the file at `path` is still this version: the same size and mtime, and no write
    /// reported meanwhile.
    fn is_current(&self, path: &Path) -> bool {
        FileIdentity::of(path).ok() == Some(self.identity) && !self.watch.as_ref().is_some_and(FileWatch::written)
    }
}

impl FileIdentity {
    /// A file of a network file system (a remote data root): its size and mtime as GDAL's VSI
    /// gives them (cached by GDAL after the first request, so not a request per read).
    fn of_remote(path: &Path) -> Result<FileIdentity> {
        // GDAL's message names the server: SQL users see only that the object is not there.
        let stat = super::vsi::stat(path)
            .map_err(|_| RasterError::unreadable(path, "no such object, or the server did not answer"))?;
        Ok(FileIdentity { device: 0, inode: 0, bytes: stat.bytes, mtime_ns: i128::from(stat.mtime_ns) })
    }
}

/// The files a result read in several calls comes from (a table's rows, a batch's windows), as
/// they were when it began: each call is of one version of its file (`with_dataset` sees to it),
/// and the result must be too.
pub struct Pinned(Vec<(PathBuf, Option<Version>)>);

impl Pinned {
    /// The files at `paths` now, each once however often it is named (None where one cannot be
    /// had: its read will say why).
    pub fn of<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Pinned {
        let mut pinned: Vec<(PathBuf, Option<Version>)> = Vec::new();
        for path in paths {
            if !pinned.iter().any(|(known, _)| known == path) {
                pinned.push((path.to_path_buf(), Version::of(path).ok()));
            }
        }
        Pinned(pinned)
    }

    /// The first file that is no longer the one pinned (one that could not be had then, and can
    /// now, included).
    pub fn changed(&self) -> Option<&Path> {
        let is_current = |path: &Path, was: &Option<Version>| match was {
            Some(version) => version.is_current(path),
            None => FileIdentity::of(path).is_err(),
        };
        self.0.iter().find(|(path, was)| !is_current(path, was)).map(|(path, _)| path.as_path())
    }
}

struct Entry {
    path: PathBuf,
    /// The file as it was opened: a dataset (and its cached blocks and tiles) of a file changed
    /// or written since is not used again.
    version: Version,
    dataset: Dataset,
    /// The file's tiles when they can be read without GDAL: None until asked, then Some.
    tiles: Option<Option<RawTiles>>,
}

/// Datasets opened by this process for one owner.
pub struct DatasetCache {
    /// The process that opened `open`.
    process: u32,
    open: Vec<Entry>,
}

impl Default for DatasetCache {
    fn default() -> Self {
        DatasetCache { process: std::process::id(), open: Vec::new() }
    }
}

impl DatasetCache {
    /// Runs `f` on the open dataset of `path`, opening it if it is not cached, was opened by
    /// another process (before a fork), or the file changed since it was opened.
    pub fn with_dataset<R, E>(&mut self, path: &Path, f: impl FnOnce(&Dataset) -> Result<R, E>) -> Result<R, E>
    where
        E: From<RasterError>,
    {
        self.with_entry(path, |entry| f(&entry.dataset))
    }

    /// [`DatasetCache::with_dataset`], with the file's tiles when they can be read without GDAL
    /// ([`RawTiles`]).
    pub fn with_tiles<R, E>(
        &mut self,
        path: &Path,
        f: impl FnOnce(&Dataset, Option<&mut RawTiles>) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<RasterError>,
    {
        self.with_entry(path, |Entry { path, dataset, tiles, .. }| {
            f(dataset, tiles.get_or_insert_with(|| RawTiles::of(dataset, path)).as_mut())
        })
    }

    fn with_entry<R, E>(&mut self, path: &Path, f: impl FnOnce(&mut Entry) -> Result<R, E>) -> Result<R, E>
    where
        E: From<RasterError>,
    {
        let _quiet = QuietGdal::new();
        self.forget_inherited();
        let cached = self.open.iter().position(|e| e.path == path);
        let entry = match cached.map(|index| self.open.remove(index)) {
            Some(entry) if entry.version.is_current(path) => entry,
            _ => Entry {
                path: path.to_path_buf(),
                version: Version::of(path)?,
                dataset: open_geotiff(path)?,
                tiles: None,
            },
        };
        self.open.insert(0, entry);
        self.open.truncate(OPEN_DATASETS);
        let result = f(&mut self.open[0]);
        // A file rewritten or replaced during the read may have given some blocks of each version:
        // its result is refused whole, and the dataset is not used again.
        if !self.open[0].version.is_current(path) {
            self.open.remove(0);
            return Err(RasterError::unreadable(path, CHANGED).into());
        }
        result
    }

    fn forget_inherited(&mut self) {
        let process = std::process::id();
        if self.process != process {
            self.open.drain(..).for_each(std::mem::forget);
            self.process = process;
        }
    }
}

impl Drop for DatasetCache {
    fn drop(&mut self) {
        self.forget_inherited();
    }
}

/// The mutex's value; a panic that poisoned it (caught by rusqlite or the table guard) left
/// nothing half-changed that a later call could trip on.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One file's dataset, used by one thread at a time.
pub type SharedDataset = Arc<Mutex<DatasetCache>>;

/// Datasets that several threads read through at once (`s12_batch`): one per file, each behind its
/// own lock. GDAL's block cache is per dataset, so a dataset per thread would decode a tile two
/// threads need twice; with one per file it is decoded once, and threads wait for each other only
/// when they want the same file at the same moment.
#[derive(Default)]
pub struct DatasetPool {
    /// The files' datasets, most recently asked for first.
    files: Mutex<Vec<(PathBuf, SharedDataset)>>,
}

impl DatasetPool {
    /// The dataset of `path` (opened by its first use).
    pub fn dataset(&self, path: &Path) -> SharedDataset {
        let mut files = lock(&self.files);
        let shared = match files.iter().position(|(known, _)| known == path) {
            Some(index) => files.remove(index).1,
            None => SharedDataset::default(),
        };
        files.insert(0, (path.to_path_buf(), shared.clone()));
        shared
    }

    /// Gives back a dataset `dataset` handed out, then `trim`s: a batch over many files keeps
    /// open only those it will read again.
    pub fn release(&self, shared: SharedDataset) {
        drop(shared);
        self.trim();
    }

    /// Beyond OPEN_DATASETS files, closes the least recently asked for that nobody holds.
    pub fn trim(&self) {
        let mut files = lock(&self.files);
        while files.len() > OPEN_DATASETS {
            let Some(idle) = files.iter().rposition(|(_, shared)| Arc::strong_count(shared) == 1) else { break };
            files.remove(idle);
        }
    }
}
