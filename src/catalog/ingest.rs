//! `sen12lite ingest`: metadata first, then every new or changed file scanned in parallel and
//! committed in batches. Killed at any moment, or stopped by a failed write (a full disk, an I/O
//! error), the catalog holds whole files only; the next run takes what is missing.

use super::archives::{self, tar_member, TarStream};
use super::discover::{changed_since_listed, discover, discover_remote, first_names, Found, FoundFile, SceneKey};
use super::shard::{self, catalog_error, check_claim, partial_path, Shard};
use super::{cloud_threshold, meta_get, meta_set, open_catalog, write_failure};
use super::{patch_grid, quicklooks, seasons, write, CatalogError, CatalogResult};
use crate::layout::sen12tp::{self, parse_metadata, EMBEDDED_METADATA};
use crate::layout::{sen12ms, Dataset, Modality};
use crate::parallel::for_each_parallel_with;
use crate::progress::Progress;
use crate::raster::cache::{watch_file, CHANGED};
use crate::raster::kept_quicklook::KEPT_SIDE;
use crate::raster::open::{is_virtual, set_block_cache_mb, unique_vsimem_path};
use crate::raster::scan::{scan_file, FileScan, Measures, ScanRequest, ScanScratch};
use crate::raster::vsi;
use crate::raster::RasterError;
use crate::verify::{is_md5_hex, md5_problem, md5_problem_of_bytes, read_md5sums};
use rusqlite::Connection;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const COMMIT_EVERY: Duration = Duration::from_secs(2);
/// GDAL block cache per worker: a tile row of a 2000 px, 13-band S2 file is about 14 MB.
const CACHE_MB_PER_JOB: usize = 32;
/// Codes outside a legend that a message names; the rest are counted.
const MAX_CODES_SHOWN: usize = 5;

/// How to ingest: parallelism, what to measure and check, how often to commit.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Files scanned at once (worker threads).
    pub jobs: usize,
    /// Band statistics and scene measures (false: headers only).
    pub statistics: bool,
    /// Check files against the tree's md5sums.txt lists.
    pub checksums: bool,
    /// Which s1, s2 and land-cover files get a kept quicklook (with statistics: they give its stretch).
    pub quicklooks: KeptQuicklooks,
    /// Catalogue files symlinked from outside the data folder.
    pub follow_symlinks: bool,
    /// Commit after this many files at most (and at least every COMMIT_EVERY).
    pub batch_files: Option<usize>,
    /// Ingest only these archives (names in the data folder) and leave the rest of the catalog as
    /// it is; empty: the whole tree.
    pub archives: Vec<String>,
    /// Ingest a tree in object storage (a GDAL virtual path) even if $SEN12LITE_ALLOW_REMOTE does
    /// not list it: the operator said so on the command line.
    pub allow_remote: bool,
    /// Only this shard's scenes (`--shard K/N`, into a part for `sen12lite merge`); None: all.
    pub shard: Option<Shard>,
}

/// Which files' quicklooks the ingest keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptQuicklooks {
    /// Files larger than a quicklook (SEN12TP's 2000 px scenes), whose drawing on demand reads
    /// 4 Mi pixels a band: `s12_png(scene, what)` draws a smaller one from its file in milliseconds.
    Large,
    /// Every s1, s2 and land-cover file (a 256 px SEN12MS triplet's three take about 250 KB and
    /// half again its ingest time, docs/benchmarks.md).
    All,
    /// None.
    None,
}

impl KeptQuicklooks {
    /// Whether the quicklook of `file` is kept.
    pub fn keeps(self, file: &FoundFile) -> bool {
        match self {
            KeptQuicklooks::All => true,
            KeptQuicklooks::None => false,
            KeptQuicklooks::Large => file.scene.dataset().published_size() > KEPT_SIDE,
        }
    }
}

impl std::str::FromStr for KeptQuicklooks {
    type Err = String;

    fn from_str(name: &str) -> Result<KeptQuicklooks, String> {
        match name {
            "large" => Ok(KeptQuicklooks::Large),
            "all" => Ok(KeptQuicklooks::All),
            "none" => Ok(KeptQuicklooks::None),
            other => Err(format!("unknown choice '{other}' (known: large, all, none)")),
        }
    }
}

impl Default for IngestOptions {
    /// Every core, statistics and checksums on, symlinks out refused, batches by time.
    fn default() -> Self {
        IngestOptions {
            jobs: crate::parallel::default_jobs(),
            statistics: true,
            checksums: true,
            quicklooks: KeptQuicklooks::Large,
            follow_symlinks: false,
            batch_files: None,
            archives: Vec::new(),
            allow_remote: false,
            shard: None,
        }
    }
}

/// What an ingest did, counted.
#[derive(Debug, Default, PartialEq)]
pub struct IngestReport {
    /// Scenes taken from the SEN12TP metadata.
    pub metadata_scenes: usize,
    /// Raster files found below the data root.
    pub files_found: usize,
    /// Members of downloaded archives not read because their file is unpacked beside them.
    pub archived_copies: usize,
    /// Files read this run (new or changed).
    pub files_scanned: usize,
    /// Files skipped because their catalog rows are current.
    pub files_unchanged: usize,
    /// Catalog rows forgotten because their file is gone.
    pub files_removed: usize,
    /// Files, metadata features and folders that could not be used (all in ingest_errors).
    pub failures: usize,
    /// Scanned files whose rows were committed.
    pub files_written: usize,
    /// Why the catalog could not be written to the end, naming the cause (a full disk, a
    /// read-only file system, an I/O error, another writer). What was committed before is whole.
    pub write_error: Option<String>,
    /// The tree has no dataset in it: what was looked for and what was found instead. The catalog
    /// was not touched (not even created), so the folder is not claimed as its data root.
    pub nothing_to_ingest: Option<String>,
    /// Another connection held the catalog at the end, so it stayed in WAL mode (with its -wal
    /// and -shm files) instead of becoming one self-contained file.
    pub left_in_wal: bool,
}

/// Why an ingest stopped: a write to the catalog failed (the report says so, the work done is
/// kept), or it could not start or go on.
enum Stop {
    Write(rusqlite::Error),
    Other(CatalogError),
}

impl From<rusqlite::Error> for Stop {
    fn from(e: rusqlite::Error) -> Self {
        Stop::Write(e)
    }
}

impl From<CatalogError> for Stop {
    fn from(error: CatalogError) -> Self {
        Stop::Other(error)
    }
}

/// Ingests the tree at `data_dir` into the catalog `db`, telling `progress` of every file scanned.
/// A failed catalog write ends it early with `write_error` set (what was committed is whole); any
/// other problem that stops it is the error.
pub fn ingest(
    data_dir: &Path,
    db: &Path,
    options: &IngestOptions,
    progress: &mut dyn Progress,
) -> CatalogResult<IngestReport> {
    let root = data_root(data_dir, options.allow_remote)?;
    let mut found = match is_virtual(&root) {
        true => discover_remote(&root)?,
        false => discover(&root, options.follow_symlinks)?,
    };
    limit_to_archives(&mut found, &options.archives)?;
    let catalog = if db.exists() { Some(open_catalog(db)?) } else { None };
    archives::expand(&mut found, catalog.as_ref())?;
    if let Some(message) = found.nothing_to_ingest() {
        // A catalog of this very folder still learns that its files are gone.
        if !catalog.as_ref().map(|conn| indexes(conn, db, &root)).transpose()?.unwrap_or(false) {
            return Ok(IngestReport { nothing_to_ingest: Some(message), ..IngestReport::default() });
        }
    }
    let conn = match catalog {
        Some(conn) => conn,
        None => open_catalog(db)?,
    };
    shard::claim(&conn, db, options.shard)?;
    if let Some(shard) = options.shard {
        shard.select(&mut found);
    }
    let mut report = IngestReport::default();
    let outcome = claim_data_root(&conn, &root)
        .and_then(|()| ingest_tree(&conn, &root, found, options, progress, &mut report))
        .and_then(|()| checkpoint(&conn));
    match outcome {
        Ok(()) => {
            report.left_in_wal = !leave_as_one_file(&conn);
            Ok(report)
        }
        Err(Stop::Write(e)) => {
            report.write_error = Some(write_failure(&conn, db, &e));
            Ok(report)
        }
        Err(Stop::Other(error)) => Err(error),
    }
}

/// The root the catalog will name: a local folder's real path, or a remote tree's virtual path
/// when the operator allows it (`--allow-remote`, or a prefix in $SEN12LITE_ALLOW_REMOTE).
fn data_root(data_dir: &Path, allow_remote: bool) -> CatalogResult<PathBuf> {
    let refuse = |message: String| CatalogError::Ingest(format!("{}{message}", data_dir.display()));
    if !is_virtual(data_dir) {
        return data_dir
            .canonicalize()
            .map_err(|e| CatalogError::Ingest(format!("data folder {}: {e}", data_dir.display())));
    }
    let root = data_dir.to_string_lossy();
    let scheme = vsi::remote_scheme(&root).map_err(|e| refuse(format!(": {e}")))?;
    if !allow_remote && !vsi::allowed_by_operator(&root, scheme) {
        return Err(refuse(format!(
            " is on {scheme}: pass --allow-remote, or list a prefix of it in {}, to ingest from there",
            vsi::ALLOW_REMOTE_VAR
        )));
    }
    Ok(PathBuf::from(root.trim_end_matches('/')))
}

/// The whole run on an open catalog whose data root is `root`: survey the tree, take the
/// metadata, then scan and write what is new or changed.
fn ingest_tree(
    conn: &Connection,
    root: &Path,
    mut found: Found,
    options: &IngestOptions,
    progress: &mut dyn Progress,
    report: &mut IngestReport,
) -> Result<(), Stop> {
    let checksums = if options.checksums { read_checksum_lists(root, &mut found) } else { HashMap::new() };
    let splits = read_split_lists(root, &mut found);
    report.files_found = found.files.len();
    report.archived_copies = found.archived_copies.len();
    let spatial_ids =
        if uses_sen12tp(&found) { ingest_metadata(conn, root, &found, options.shard, report)? } else { HashMap::new() };
    record_discovery(conn, &found, &options.archives, report)?;
    let mut todo = files_to_scan(conn, &found, options.statistics)?;
    largest_first(&mut todo);
    report.files_unchanged = found.files.len() - todo.len();
    let cloud_threshold = cloud_threshold(conn);
    meta_set(conn, "cloud_threshold", &cloud_threshold.to_string())?;
    let scanner = Scanner {
        spatial_ids,
        checksums,
        statistics: options.statistics,
        quicklooks: options.quicklooks,
        cloud_threshold,
        streams: Mutex::default(),
        open_streams: options.jobs.max(1) + 1,
    };
    scan_and_write(conn, &todo, &scanner, &splits, options, progress, report)?;
    write::refresh_scene_presence(conn)?;
    patch_grid::complete(conn)?;
    report.failures += seasons::apply_seasons(conn, root, &found)?;
    meta_set(conn, "loader_version", env!("CARGO_PKG_VERSION"))?;
    meta_set(conn, "last_ingest", &chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())?;
    Ok(())
}

/// A SEN12TP tree has the metadata file or scene folders; its scenes come from the metadata.
fn uses_sen12tp(found: &Found) -> bool {
    !found.metadata_files.is_empty() || found.files.iter().any(|f| f.scene.dataset() == Dataset::Sen12tp)
}

/// Records what discovery found wrong and forgets catalogued files no longer on disk, in one
/// transaction. Discovery is redone whole each run: only what is still wrong stays recorded.
fn record_discovery(
    conn: &Connection,
    found: &Found,
    archives: &[String],
    report: &mut IngestReport,
) -> Result<(), Stop> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut statement = conn.prepare("SELECT rowid, path FROM ingest_errors WHERE stage = 'discover'")?;
    let recorded: Vec<(i64, String)> =
        statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    for (rowid, _) in recorded.iter().filter(|(_, path)| in_scope(path, archives)) {
        conn.execute("DELETE FROM ingest_errors WHERE rowid = ?1", [rowid])?;
    }
    for (path, message) in &found.problems {
        write::record_error(conn, path, "discover", message)?;
        report.failures += 1;
    }
    report.files_removed = forget_vanished(conn, found, archives)?;
    conn.execute_batch("COMMIT")?;
    Ok(())
}

/// What a worker needs to scan one file: the metadata's scene -> ROI map, the listed checksums
/// and the measures asked for.
struct Scanner {
    spatial_ids: HashMap<i64, i64>,
    checksums: HashMap<String, String>,
    statistics: bool,
    quicklooks: KeptQuicklooks,
    cloud_threshold: f64,
    /// The tar archives being read, each front to back once, most recently used first: members
    /// come grouped by archive, so a few are open at a time (each holds GDAL's decompression state).
    streams: Mutex<Vec<(PathBuf, TarStream)>>,
    /// How many streams stay open: one per worker, and one for the archive just finished.
    open_streams: usize,
}

impl Scanner {
    /// Checks a SEN12TP file's folder against the metadata, scans the file with the worker's
    /// `scratch`, and compares it with its listed checksum.
    fn scan(&self, file: &FoundFile, scratch: &mut ScanScratch) -> CatalogResult<FileScan> {
        if let SceneKey::Sen12tp { spatial_id, scene_id } = file.scene {
            match self.spatial_ids.get(&scene_id) {
                None => {
                    return Err(CatalogError::Unplaced(format!(
                        "scene folder {spatial_id}_{scene_id} is not in the metadata"
                    )))
                }
                Some(&known) if known != spatial_id => {
                    return Err(CatalogError::Unplaced(format!(
                        "scene {scene_id} belongs to ROI {known} in the metadata, found under {spatial_id}_{scene_id}"
                    )))
                }
                _ => {}
            }
        }
        // Writes during the scan that leave the size and time as listed (docs in raster::watch).
        let watch = watch_file(&file.path);
        let request = scan_request(file, self);
        let listed = self.checksums.get(&file.relative).map(String::as_str);
        let (mut scan, checksum_problem) = match (tar_member(&file.path), listed) {
            (Some((archive, member)), _) => {
                scan_in_memory(self.read_streamed(&archive, &member)?, listed, file, &request, scratch)?
            }
            (None, Some(hex)) => scan_hashed(file, hex, &request, scratch)?,
            (None, None) => (scan_file(&file.path, &request, scratch)?, None),
        };
        if let Some(problem) = checksum_problem {
            scan.warnings.push(("checksum", problem));
        }
        if let Some(problem) = outside_legend(file, &scan) {
            scan.warnings.push(("classes", problem));
        }
        // A file rewritten during its scan gave statistics of two versions: an error row instead,
        // and the next ingest, which sees its new size or time, reads it whole.
        if changed_since_listed(file) || watch.is_some_and(|watch| watch.written()) {
            return Err(RasterError::unreadable(Path::new(&file.relative), CHANGED).into());
        }
        Ok(scan)
    }
}

impl Scanner {
    /// The bytes of a member of a tar archive, from the archive's stream (one pass over the
    /// archive; GDAL seeking inside a `.tar.gz` for every member would decompress the archive
    /// again and again).
    fn read_streamed(&self, archive: &Path, member: &str) -> CatalogResult<Vec<u8>> {
        let mut streams = self.streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let stream = match streams.iter().position(|(path, _)| path == archive) {
            Some(at) => streams.remove(at).1,
            None => TarStream::open(archive)?,
        };
        streams.insert(0, (archive.to_path_buf(), stream));
        streams.truncate(self.open_streams);
        streams[0].1.read_member(member)
    }
}

/// Files up to this size are read once when their checksum is checked: hashed, then scanned
/// from the same bytes in memory. Larger ones (a 2000 px SEN12TP S2 file is about 100 MB) are
/// read twice rather than held whole by every worker.
const HASHED_IN_MEMORY_MAX: u64 = 64 << 20;

/// Scans a file with a listed checksum `hex`: (the scan, what is wrong with the checksum). Up to
/// HASHED_IN_MEMORY_MAX it is read once and scanned from memory; a larger file, or one that
/// cannot be read whole or is empty, is scanned and hashed from its path, whose errors say why.
fn scan_hashed(
    file: &FoundFile,
    hex: &str,
    request: &ScanRequest,
    scratch: &mut ScanScratch,
) -> CatalogResult<(FileScan, Option<String>)> {
    if file.bytes <= HASHED_IN_MEMORY_MAX {
        let mut data = Vec::with_capacity(file.bytes as usize);
        if let Ok(1..) = vsi::open_reader(&file.path).and_then(|mut reader| reader.read_to_end(&mut data)) {
            return scan_in_memory(data, Some(hex), file, request, scratch);
        }
    }
    Ok((scan_file(&file.path, request, scratch)?, md5_problem(&file.path, hex)))
}

/// Scans the bytes of `file` through GDAL's in-memory file system, which takes them without a
/// copy, and checks them against its listed checksum while they are in the cache: (the scan,
/// what is wrong with the checksum). Errors name the file, not the memory file.
fn scan_in_memory(
    data: Vec<u8>,
    listed: Option<&str>,
    file: &FoundFile,
    request: &ScanRequest,
    scratch: &mut ScanScratch,
) -> CatalogResult<(FileScan, Option<String>)> {
    // GDAL frees what it is given: an empty vector's address was never allocated.
    if data.is_empty() {
        let reason = "the file is empty".to_string();
        return Err(RasterError::Open { path: file.relative.clone(), reason }.into());
    }
    let checksum_problem = listed.and_then(|hex| md5_problem_of_bytes(&data, hex));
    let name = unique_vsimem_path("member", "tif");
    gdal::vsi::create_mem_file(&name, data)
        .map_err(|e| RasterError::TooLarge(format!("cannot hold the file in memory: {e}")))?;
    let scanned = scan_file(Path::new(&name), request, scratch);
    let _ = gdal::vsi::unlink_mem_file(&name);
    Ok((scanned.map_err(|e| e.renamed(&name, &file.relative))?, checksum_problem))
}

/// Class codes of a land-cover map that its legend does not have. They are catalogued all the same
/// (their `landcover` rows have no label), and named here so the user sees them.
fn outside_legend(file: &FoundFile, scan: &FileScan) -> Option<String> {
    let legend = file.scene.dataset().modality(&file.modality)?.legend()?;
    let outside: Vec<String> = (scan.classes.as_ref()?.iter())
        .filter(|(class, _)| legend.label(*class).is_none())
        .map(|(class, pixels)| format!("{class} ({pixels} px)"))
        .collect();
    let shown = first_names(&outside, MAX_CODES_SHOWN);
    (!outside.is_empty()).then(|| format!("class codes outside the {} legend: {shown}", legend.source))
}

/// Scans `todo` in parallel and writes each result as it arrives, in all-or-nothing batches. The
/// first failed write stops the run: nothing after it is written or claimed.
fn scan_and_write(
    conn: &Connection,
    todo: &[&FoundFile],
    scanner: &Scanner,
    splits: &HashMap<String, Option<String>>,
    options: &IngestOptions,
    progress: &mut dyn Progress,
    report: &mut IngestReport,
) -> Result<(), Stop> {
    set_block_cache_mb(CACHE_MB_PER_JOB * options.jobs.max(1));
    let mut writer = BatchWriter::new(conn, options.batch_files.unwrap_or(usize::MAX))?;
    progress.begin(todo.len(), todo.iter().map(|file| file.progress_bytes).sum());
    let mut write_error = None;
    for_each_parallel_with(
        todo,
        options.jobs,
        ScanScratch::default,
        |scratch, file| scanner.scan(file, scratch),
        |index, result| {
            let file = todo[index];
            let failures = result.as_ref().map_or(1, |scan| scan.warnings.len());
            let split = splits.get(&triplet_key(file)).and_then(Option::as_deref);
            if let Err(e) = writer.write(file, result, split) {
                write_error = Some(e);
                return ControlFlow::Break(());
            }
            progress.advance(file.progress_bytes, failures > 0);
            report.files_scanned += 1;
            report.failures += failures;
            ControlFlow::Continue(())
        },
    );
    report.files_written = writer.committed;
    if let Some(e) = write_error {
        return Err(Stop::Write(e));
    }
    report.files_written = writer.finish()?;
    Ok(())
}

/// Copies what the WAL holds into the catalog file, without waiting for readers. Should the disk be
/// full here, nothing is lost: the WAL keeps every commit and the next opening replays it.
fn checkpoint(conn: &Connection) -> Result<(), Stop> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    Ok(())
}

/// Turns the catalog into one self-contained file in rollback-journal mode (no -wal or -shm
/// beside it), which opens read-only anywhere — a read-only mount, a container layer, a copy on
/// every training node — without `immutable=1`. WAL is for the time an ingest writes, so that
/// readers go on meanwhile; the next ingest turns it on again. The switch needs the catalog to
/// itself: when another connection holds it, it is not waited for, and the catalog stays in WAL
/// (nothing is lost either way: a failed switch leaves the WAL as it was). False then.
fn leave_as_one_file(conn: &Connection) -> bool {
    let _ = conn.busy_timeout(std::time::Duration::ZERO);
    let mode = conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get::<_, String>(0));
    matches!(mode.as_deref(), Ok("delete"))
}

/// Whether the catalog `db` indexes the folder `root`.
fn indexes(conn: &Connection, db: &Path, root: &Path) -> CatalogResult<bool> {
    let data_root = meta_get(conn, "data_root").map_err(|e| CatalogError::Ingest(format!("{}: {e}", db.display())))?;
    Ok(data_root.as_deref() == Some(&*root.to_string_lossy()))
}

/// A catalog's paths are relative to one data root; mixing two trees would make them ambiguous,
/// and a tree partly on a local disk and partly in object storage has no one root to name.
fn claim_data_root(conn: &Connection, root: &Path) -> Result<(), Stop> {
    let root_text = root.to_string_lossy();
    match meta_get(conn, "data_root")? {
        Some(existing) if is_virtual(Path::new(&existing)) != is_virtual(root) => {
            Err(Stop::Other(CatalogError::Ingest(format!(
                "this catalog indexes {existing}; a catalog holds one tree, all on a local disk or all in \
                 object storage, so {root_text} cannot join it: use another --db"
            ))))
        }
        Some(existing) if existing != root_text => Err(Stop::Other(CatalogError::Ingest(format!(
            "this catalog indexes {existing}, not {root_text}; use another --db, \
             or UPDATE s12_meta SET value = '{root_text}' WHERE key = 'data_root' if the data moved"
        )))),
        _ => Ok(meta_set(conn, "data_root", &root_text)?),
    }
}

/// Upserts every scene of the metadata (the tree's file, else the embedded copy; a shard's part,
/// see `Shard::writes_metadata_of`) in one transaction; returns scene_id -> spatial_id of every
/// scene. A tree's file that cannot be read or parsed is recorded and the embedded copy (the
/// published file) is used, so its scenes' files still ingest.
fn ingest_metadata(
    conn: &Connection,
    root: &Path,
    found: &Found,
    shard: Option<Shard>,
    report: &mut IngestReport,
) -> Result<HashMap<i64, i64>, Stop> {
    let embedded = || parse_metadata(EMBEDDED_METADATA).expect("the embedded metadata parses (a unit test checks it)");
    let mut problems = Vec::new();
    let (source, metadata) = match found.metadata_files.first() {
        Some(path) => {
            let source = super::discover::relative(root, path);
            let read = vsi::read_to_string(path).map_err(CatalogError::from);
            match read.and_then(|text| parse_metadata(&text).map_err(CatalogError::from)) {
                Ok(metadata) => (source, metadata),
                Err(e) => {
                    problems.push(format!("{e}; using the embedded copy of the published metadata instead"));
                    (source, embedded())
                }
            }
        }
        None => (format!("embedded {}", sen12tp::METADATA_FILE), embedded()),
    };
    conn.execute_batch("BEGIN IMMEDIATE")?;
    write::clear_errors(conn, &source)?;
    for message in problems.iter().chain(&metadata.errors) {
        write::record_error(conn, &source, "metadata", message)?;
    }
    for scene in metadata.scenes.iter().filter(|s| shard.is_none_or(|shard| shard.writes_metadata_of(s.scene_id))) {
        write::upsert_metadata_scene(conn, scene)?;
    }
    meta_set(conn, "metadata_source", &source)?;
    conn.execute_batch("COMMIT")?;
    report.metadata_scenes = metadata.scenes.len();
    report.failures += problems.len() + metadata.errors.len();
    Ok(metadata.scenes.iter().map(|s| (s.scene_id, s.spatial_id)).collect())
}

/// Expected md5 of each listed file, by catalog path. Lists name paths relative to their own
/// folder; a malformed line is a discover problem of the list.
fn read_checksum_lists(root: &Path, found: &mut Found) -> HashMap<String, String> {
    let mut expected = HashMap::new();
    for listing in &found.checksum_lists {
        let list_path = super::discover::relative(root, listing);
        let folder = listing.parent().unwrap_or(root);
        match read_md5sums(listing) {
            Ok(entries) => {
                for (number, (hex, path)) in entries.into_iter().enumerate() {
                    if is_md5_hex(&hex) {
                        expected
                            .insert(super::discover::relative(root, &folder.join(path.trim_start_matches("./"))), hex);
                    } else {
                        found
                            .problems
                            .push((list_path.clone(), format!("line {} is not '<md5>  <path>': {path:?}", number + 1)));
                    }
                }
            }
            Err(e) => found.problems.push((list_path, e.to_string())),
        }
    }
    expected
}

/// Files whose size and mtime match their catalogue row (and have statistics, if asked) are
/// skipped. `stats = 1` promises a band_stats row with a quantile sketch for every band: a row
/// that breaks it (a catalog written by an older sen12lite that committed half a file, or one from
/// before sketches) counts as having no statistics, and an S1, S2 or land-cover file without
/// `patch_threshold` (from before the patch grid) as having none either.
fn files_to_scan<'a>(conn: &Connection, found: &'a Found, statistics: bool) -> rusqlite::Result<Vec<&'a FoundFile>> {
    let mut statement = conn.prepare(
        "SELECT path, bytes, mtime, stats AND band_count = (SELECT count(*) FROM band_stats b
           WHERE b.scene_id = f.scene_id AND b.modality = f.modality AND b.sketch IS NOT NULL),
           patch_threshold IS NOT NULL FROM files f",
    )?;
    let known: HashMap<String, (i64, i64, bool, bool)> = statement
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(found
        .files
        .iter()
        .filter(|f| match known.get(&f.relative) {
            Some(&(bytes, mtime, has_stats, counted)) => {
                let incomplete = !has_stats || (on_patch_grid(f) && !counted);
                bytes != f.bytes as i64 || mtime != f.mtime_ns || (statistics && incomplete)
            }
            None => true,
        })
        .collect())
}

/// The largest files first (longest-processing-time-first): the run then ends with small files,
/// rather than with one worker still reading a big one while the others wait. Members of a
/// streamed archive keep their order, the archive's, in which it is read once.
fn largest_first(todo: &mut [&FoundFile]) {
    if todo.iter().all(|file| tar_member(&file.path).is_none()) {
        todo.sort_by_key(|file| std::cmp::Reverse(file.bytes));
    }
}

/// Whether a catalog path is part of this run: any path for a whole tree, else one of `archives`
/// or a member of one.
fn in_scope(path: &str, archives: &[String]) -> bool {
    archives.is_empty()
        || archives.iter().any(|archive| {
            path.strip_prefix(archive.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

/// For a run over some archives only: keeps those (each must be in the tree) and what lies in
/// them; plain files and other problems are left to a run over the whole tree. The metadata and
/// the SEN12MS lists still apply.
fn limit_to_archives(found: &mut Found, archives: &[String]) -> CatalogResult<()> {
    if archives.is_empty() {
        return Ok(());
    }
    if let Some(missing) = archives.iter().find(|name| !found.archives.iter().any(|a| &a.relative == *name)) {
        return Err(CatalogError::Ingest(format!("no archive {missing} in the data folder")));
    }
    found.archives.retain(|archive| archives.contains(&archive.relative));
    found.files.clear();
    found.problems.retain(|(path, _)| in_scope(path, archives));
    Ok(())
}

/// Catalogue rows of files no longer on disk are removed: the catalog says what is where.
fn forget_vanished(conn: &Connection, found: &Found, archives: &[String]) -> rusqlite::Result<usize> {
    let present: HashSet<&str> = found.files.iter().map(|f| f.relative.as_str()).collect();
    let mut statement = conn.prepare("SELECT scene_id, modality, path FROM files")?;
    let rows: Vec<(i64, String, String)> =
        statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?;
    let vanished: Vec<_> =
        rows.into_iter().filter(|(_, _, path)| in_scope(path, archives) && !present.contains(path.as_str())).collect();
    for (scene_id, modality, _) in &vanished {
        write::forget_file(conn, *scene_id, modality)?;
    }
    Ok(vanished.len())
}

/// What to check and measure in a file: its modality's bands and types, the S2 measures, the
/// land-cover mix, and for SEN12MS and SEN12MS-CR (which have no metadata file) the footprint.
fn scan_request(file: &FoundFile, scanner: &Scanner) -> ScanRequest<'static> {
    let (statistics, cloud_threshold) = (scanner.statistics, scanner.cloud_threshold);
    let dataset = file.scene.dataset();
    ScanRequest {
        expected_bands: dataset.band_names(&file.modality),
        expected_dtypes: dataset.data_types(&file.modality),
        measures: Measures::of(dataset, &file.modality, cloud_threshold),
        statistics,
        footprint: dataset != Dataset::Sen12tp,
        patch_grid: (statistics && on_patch_grid(file)).then_some(cloud_threshold),
        quicklook: quicklooks::kept_look(file)
            .filter(|_| statistics && scanner.quicklooks.keeps(file))
            .map(|(_, look)| look),
    }
}

/// Whether the authors' patch grid counts a file: the S1, S2 and land-cover files `s12_patches`
/// reads.
fn on_patch_grid(file: &FoundFile) -> bool {
    let dataset = file.scene.dataset();
    let modality = dataset.modality(&file.modality);
    matches!(modality, Some(Modality::S1 | Modality::S2)) || modality.is_some() && modality == dataset.land_cover()
}

/// SEN12MS split lists name s2 files; the split belongs to the whole triplet. A triplet listed in
/// both lists has no split (None), and that is a discover problem of the list that said it twice.
fn read_split_lists(root: &Path, found: &mut Found) -> HashMap<String, Option<String>> {
    let mut splits: HashMap<String, Option<String>> = HashMap::new();
    let mut problems = Vec::new();
    for (split, path) in &found.split_lists {
        for name in vsi::read_to_string(path).unwrap_or_default().lines().map(str::trim) {
            let Some(patch) = sen12ms::parse_patch_file(name) else { continue };
            match splits.entry(patch.triplet()) {
                Entry::Vacant(entry) => {
                    entry.insert(Some(split.clone()));
                }
                Entry::Occupied(mut entry) if entry.get().as_ref().is_some_and(|known| known != split) => {
                    let message = format!(
                        "{name} is also in the {} list: its split is left NULL",
                        entry.get().as_deref().unwrap_or("")
                    );
                    problems.push((super::discover::relative(root, path), message));
                    entry.insert(None);
                }
                Entry::Occupied(_) => {}
            }
        }
    }
    found.problems.extend(problems);
    splits
}

fn triplet_key(file: &FoundFile) -> String {
    file.scene.patch().map(super::super::layout::sen12ms::PatchName::triplet).unwrap_or_default()
}

/// Writes scan results in batches: a transaction of at most `batch_files` files, or about
/// COMMIT_EVERY. A batch is all or nothing: the first failed statement rolls the whole batch back
/// (SQLite itself may have undone only that statement, on SQLITE_FULL or SQLITE_IOERR) and the
/// caller writes nothing more, so a file's rows are never committed in part.
struct BatchWriter<'c> {
    conn: &'c Connection,
    opened: Instant,
    batch_files: usize,
    pending: usize,
    /// Files whose rows are committed.
    committed: usize,
    /// The scenes this run marked as having files, with the placement written for a SEN12MS
    /// triplet: each file of a triplet would write its scene row again, with the same values
    /// (the three files share one grid), a third of the catalog's statements for 256 px files.
    /// About 0.25 KB a triplet: 45 MB for all 180,662 of SEN12MS.
    scenes: HashMap<i64, Option<Placement>>,
}

/// What a SEN12MS or SEN12MS-CR file places its triplet's scene row with.
#[derive(Debug, PartialEq)]
struct Placement {
    dataset: Dataset,
    ring: Vec<[f64; 2]>,
    epsg: Option<i64>,
    split: Option<String>,
}

impl Placement {
    fn of(file: &FoundFile, scan: &FileScan, split: Option<&str>) -> Option<Placement> {
        file.scene.patch()?;
        Some(Placement {
            dataset: file.scene.dataset(),
            ring: scan.footprint.clone()?,
            epsg: scan.info.epsg,
            split: split.map(str::to_owned),
        })
    }
}

impl<'c> BatchWriter<'c> {
    fn new(conn: &'c Connection, batch_files: usize) -> rusqlite::Result<Self> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(BatchWriter {
            conn,
            opened: Instant::now(),
            batch_files: batch_files.max(1),
            pending: 0,
            committed: 0,
            scenes: HashMap::new(),
        })
    }

    /// Writes one file's rows; after an error the batch is rolled back and the writer must not be
    /// used again.
    fn write(
        &mut self,
        file: &FoundFile,
        result: CatalogResult<FileScan>,
        split: Option<&str>,
    ) -> rusqlite::Result<()> {
        let written = self.write_file(file, result, split).and_then(|()| {
            self.pending += 1;
            self.commit_when_due()
        });
        written.inspect_err(|_| self.roll_back())
    }

    fn write_file(
        &mut self,
        file: &FoundFile,
        result: CatalogResult<FileScan>,
        split: Option<&str>,
    ) -> rusqlite::Result<()> {
        let conn = self.conn;
        write::clear_errors(conn, &file.relative)?;
        match result {
            Ok(scan) => {
                let scene_id = file.scene.scene_id();
                let placement = Placement::of(file, &scan, split);
                let known = self.scenes.get(&scene_id);
                let (first, places) = (known.is_none(), placement.is_some() && known != Some(&placement));
                if let (Some(patch), Some(p)) = (file.scene.patch(), placement.as_ref().filter(|_| places)) {
                    write::upsert_patch_scene(conn, p.dataset, patch, &p.ring, p.epsg, p.split.as_deref())?;
                }
                write::write_scan(conn, file, &scan)?;
                for (stage, message) in &scan.warnings {
                    write::record_error(conn, &file.relative, stage, message)?;
                }
                // A row this file placed may be new.
                if first || places {
                    conn.prepare_cached("UPDATE scenes SET has_files = 1 WHERE scene_id = ?1")?.execute([scene_id])?;
                    self.scenes.insert(scene_id, placement);
                }
            }
            Err(error) => {
                write::forget_file(conn, file.scene.scene_id(), &file.modality)?;
                write::record_error(conn, &file.relative, "read", &error.to_string())?;
            }
        }
        Ok(())
    }

    fn commit_when_due(&mut self) -> rusqlite::Result<()> {
        if self.pending >= self.batch_files || self.opened.elapsed() >= COMMIT_EVERY {
            self.commit()?;
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.opened = Instant::now();
        }
        Ok(())
    }

    fn commit(&mut self) -> rusqlite::Result<()> {
        self.conn.execute_batch("COMMIT")?;
        self.committed += std::mem::take(&mut self.pending);
        Ok(())
    }

    /// Undoes the batch, whatever SQLite already undid; the error that led here is the one to report.
    fn roll_back(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.pending = 0;
        // What the batch wrote may be undone.
        self.scenes.clear();
    }

    /// Commits the last batch; returns how many files are committed in all.
    fn finish(mut self) -> rusqlite::Result<usize> {
        self.commit().inspect_err(|_| self.roll_back())?;
        Ok(self.committed)
    }
}

/// `sen12lite ingest --shard`: the ingest into the part's partial file, renamed to `db` when it
/// ended whole. A part that exists is ingested again incrementally (only changed files are read).
pub fn ingest_part(
    data_dir: &Path,
    db: &Path,
    options: &IngestOptions,
    progress: &mut dyn Progress,
) -> CatalogResult<IngestReport> {
    let partial = partial_path(db);
    let moved = |e: std::io::Error, from: &Path, to: &Path| {
        CatalogError::Catalog(format!("cannot rename {} to {}: {e}", from.display(), to.display()))
    };
    if db.exists() && !partial.exists() {
        // Refused before the rename: a catalog that is not this shard's keeps its name.
        if let Some(shard) = options.shard {
            let conn = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(catalog_error(db))?;
            check_claim(&conn, db, shard)?;
        }
        std::fs::rename(db, &partial).map_err(|e| moved(e, db, &partial))?;
    }
    let report = ingest(data_dir, &partial, options, progress)?;
    if report.write_error.is_none() && report.nothing_to_ingest.is_none() && !report.left_in_wal {
        std::fs::rename(&partial, db).map_err(|e| moved(e, &partial, db))?;
    }
    Ok(report)
}
