//! `s12_batch(scene, modality, bands, col, row, width, height)`, an aggregate: the windows the
//! rows of a query name, as one `.npy` of shape (N, C, H, W) in the order the rows reach it — a
//! training batch. Each row is checked as it comes (scene, file, bands, window inside the raster,
//! the same C, H, W and type as the first row) and its values are charged to the statement's read
//! budget, so a statement over SEN12LITE_MAX_READ_VALUES is refused before anything is read. The
//! final call reads the windows in parallel through one dataset a file, shared by the threads (so
//! a tile two windows need is decoded once) and kept by the session between calls (so the files of
//! the next batch are open already), each window straight into its place in the result; every
//! read asks first whether the host interrupted the statement. The windows are read file by file,
//! in raster order, so tiles that windows share are decoded once while they are cached: by
//! libdeflate into the process's tile store for a file whose tiles are read without GDAL
//! (`raster/tiles.rs`), else by GDAL into its block cache. The tiles a batch decodes may grow
//! either by an eighth of the result + 64 MB ([`TileBudget`]); past that, the store drops its
//! least recently used tiles, and a thread drops its file's tiles from GDAL's cache after its
//! window. The host then holds about 2.1x the result + 64 MB (SQLite's result and the client's copy of it beside the
//! tiles): a 654 MB batch grew the cache by its full 512 MB before. Below that, the tiles stay
//! cached for the next batch, which often reads the same files. SQLite takes the result as it is,
//! without a copy (`blob_result`), and does not copy it into the row either while it is lent
//! (`loan`).

use crate::raster::cache::lock;
use crate::raster::cache::{Pinned, SharedDataset, CHANGED};
use crate::raster::npy::{npy_header, numpy_descr, write_values_from};
use crate::raster::open::{block_cache_max, block_cache_used, drop_decoded_tiles};
use crate::raster::strips::{ReadGuard, Window};
use crate::raster::tile_store;
use crate::raster::RasterError;
use crate::sql::runtime::arguments::{self, band_spec, fail};
use crate::sql::runtime::blob_result::{register_aggregate, BlobAggregate, RawArgs, SqliteBlob};
use crate::sql::runtime::interrupt;
use crate::sql::runtime::resolve::Target;
use crate::sql::runtime::session::Session;
use crate::sql::runtime::windows::checked_window;
use gdal::raster::GdalDataType;
use gdal::Dataset;
use rusqlite::functions::FunctionFlags;
use rusqlite::{ffi, Connection, Error, Result};
use std::cmp::Reverse;
use std::collections::HashMap;
use std::mem::MaybeUninit;
use std::path::Path;
use std::sync::{Arc, Mutex};

const F: &str = "s12_batch";

/// Threads that read a batch at most: one per core, bounded.
const MAX_READERS: usize = 8;

/// Registers the aggregate on `conn`, sharing the connection's session.
pub(crate) fn register(conn: &Connection, arity: i32, flags: FunctionFlags, session: &Arc<Session>) -> Result<()> {
    register_aggregate(conn, arity, flags, BlobAggregate { name: F, step, finish }, session)
}

/// One row's window, checked.
struct Sample {
    target: Arc<Target>,
    bands: Vec<usize>,
    window: Window,
}

/// What a group holds between its rows: its samples and their common (type, C, H, W).
#[derive(Default)]
struct Samples {
    list: Vec<Sample>,
    shape: Option<(GdalDataType, usize, usize, usize)>,
}

/// One row: checked and added to the group; an error names the row.
fn step(args: &RawArgs, conn: &Connection, session: &Session, samples: &mut Samples) -> Result<()> {
    let row = samples.list.len() + 1;
    sample(args, conn, session, samples).map_err(|e| at_row(row, e))
}

/// The group's windows, read into one `.npy` that SQLite takes without a copy (into the buffer of
/// the connection's last loan when SQLite is done with it and it is as large).
fn finish(conn: &Connection, session: &Session, samples: Samples) -> Result<Option<SqliteBlob>> {
    let Samples { list, shape: Some((dtype, c, h, w)) } = samples else { return Ok(None) };
    let descr = numpy_descr(dtype).ok_or_else(|| fail(F, format!("data type {dtype} has no numpy equivalent")))?;
    let header = npy_header(descr, &[list.len(), c, h, w]);
    let sample_bytes = c * h * w * dtype.bytes() as usize;
    // SAFETY: the handle of the connection running this call, used inside it.
    let mut blob = session.loans.buffer(unsafe { conn.handle() }, F, header.len() + list.len() * sample_bytes)?;
    let budget = TileBudget::new(blob.len());
    let (head, values) = blob.uninit().split_at_mut(header.len());
    for (slot, byte) in head.iter_mut().zip(&header) {
        slot.write(*byte);
    }
    // SAFETY: the handle is only asked whether the statement was interrupted, while it runs.
    let db = Db(unsafe { conn.handle() });
    let pinned = Pinned::of(list.iter().map(|sample| sample.target.path.as_path()));
    read_all(session, db, &list, dtype, (values, sample_bytes), &budget)?;
    // Each window is of one version of its file; the batch must be too.
    if let Some(sample) = pinned.changed().and_then(|path| list.iter().find(|s| s.target.path == path)) {
        return Err(fail(F, format!("{}: {CHANGED}", sample.target.relative)));
    }
    Ok(Some(blob))
}

/// Checks one row and adds it to the group.
fn sample(args: &RawArgs, conn: &Connection, session: &Session, samples: &mut Samples) -> Result<()> {
    let (Some(scene), Some(modality), Some(spec), Some(requested)) = (
        arguments::scene(F, args, 0)?,
        arguments::text(F, args, 1, "modality")?,
        band_spec(F, args, 2)?,
        arguments::window(F, args, 3)?,
    ) else {
        return Err(fail(F, "a NULL argument: every row of a batch names a whole window"));
    };
    let target = session.file(conn, F, &scene, &modality)?;
    let bands = target.bands(F, &spec)?;
    let limits = session.limits;
    let mut call = session.call(F, conn);
    let (window, dtype) = call.with_reader_dataset(&target, |dataset, guard| {
        let window = checked_window(requested, dataset.raster_size(), bands.len(), limits.window_values)?;
        let dtype = dataset.rasterband(bands[0]).map_err(|e| RasterError::no_band(bands[0], e))?.band_type();
        // The read is paid for now, before anything is read: a statement over the read limit is
        // refused while its rows are gathered.
        guard.before_read(window.pixels() * bands.len())?;
        Ok((window, dtype))
    })?;
    let shape = (dtype, bands.len(), window.height, window.width);
    match samples.shape {
        Some(first) if first != shape => {
            let (t, c, h, w) = first;
            return Err(fail(
                F,
                format!(
                    "a window of {} x {} x {} {} values, unlike the first row's {c} x {h} x {w} {t}: a batch is one \
                     array",
                    shape.1, shape.2, shape.3, shape.0
                ),
            ));
        }
        _ => check_result_size(conn, &samples.list, shape)?,
    }
    samples.shape = Some(shape);
    samples.list.push(Sample { target, bands, window });
    Ok(())
}

/// The batch with one more sample must fit in a BLOB of the host (SQLITE_LIMIT_LENGTH), checked
/// before the buffer exists.
fn check_result_size(
    conn: &Connection,
    list: &[Sample],
    (dtype, c, h, w): (GdalDataType, usize, usize, usize),
) -> Result<()> {
    let bytes = (list.len() + 1).saturating_mul(c * h * w * dtype.bytes() as usize);
    // SAFETY: reads the connection's length limit (-1 changes nothing), inside a call on it.
    let max = unsafe { ffi::sqlite3_limit(conn.handle(), ffi::SQLITE_LIMIT_LENGTH, -1) };
    if bytes > max.max(0) as usize {
        return Err(fail(
            F,
            format!("the batch would be {bytes} bytes, over this SQLite's limit of {max} (SQLITE_LIMIT_LENGTH)"),
        ));
    }
    Ok(())
}

/// `row N: ` before a row's error, after the function's name.
fn at_row(row: usize, error: Error) -> Error {
    match error {
        Error::UserFunctionError(message) => {
            let text = message.to_string();
            let rest = text.strip_prefix("s12_batch: ").unwrap_or(&text);
            fail(F, format!("row {row}: {rest}"))
        }
        other => other,
    }
}

/// The connection, asked from the reading threads whether the statement was interrupted.
#[derive(Clone, Copy)]
struct Db(*mut ffi::sqlite3);

// SAFETY: the threads only pass the handle to `sqlite3_is_interrupted`, which reads a flag and is
// meant to be asked from any thread; they all end before the call that lent it returns.
unsafe impl Send for Db {}
// SAFETY: as above.
unsafe impl Sync for Db {}

/// One window to read: its row (from 0), its sample, its place in the result and its file's
/// dataset.
struct Job<'a> {
    index: usize,
    sample: &'a Sample,
    slot: &'a mut [MaybeUninit<u8>],
    dataset: SharedDataset,
}

/// How far a batch lets decoded tiles grow: an eighth of its result + 64 MB above what was held
/// when it began, in the process's tile store and in GDAL's block cache (files GDAL reads).
struct TileBudget {
    /// For GDAL's block cache.
    limit: u64,
    /// For the tile store, no more than GDAL's cache may hold (GDAL_CACHEMAX).
    store_limit: usize,
}

impl TileBudget {
    const BASE_BYTES: u64 = 64 << 20;

    fn new(result_bytes: usize) -> TileBudget {
        let growth = result_bytes as u64 / 8 + Self::BASE_BYTES;
        let store_limit = tile_store::shared().bytes().saturating_add(usize::try_from(growth).unwrap_or(usize::MAX));
        TileBudget { limit: block_cache_used() + growth, store_limit: store_limit.min(block_cache_max()) }
    }

    /// Drops the tiles of `dataset` (the file a thread just read a window of) when the cache has
    /// grown past the budget.
    fn enforce(&self, dataset: &Dataset) {
        if block_cache_used() > self.limit {
            drop_decoded_tiles(dataset);
        }
    }
}

/// Reads every sample into its place in `values`, on up to one thread per core, through the
/// session's datasets (one a file, shared by the threads).
fn read_all(
    session: &Session,
    db: Db,
    list: &[Sample],
    dtype: GdalDataType,
    (values, sample_bytes): (&mut [MaybeUninit<u8>], usize),
    budget: &TileBudget,
) -> Result<()> {
    let readers =
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(MAX_READERS).min(list.len());
    let queue =
        Mutex::new(Queue { pending: jobs_in_reading_order(session, list, (values, sample_bytes)), busy: vec![] });
    // The first failure: its row, and its message (None: the host interrupted the statement).
    let failed: Mutex<Option<(usize, Option<RasterError>)>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..readers {
            scope.spawn(|| {
                let mut guard = Reader { session, db, interrupted: false };
                while lock(&failed).is_none() {
                    let Some(mut job) = next_job(&queue) else { return };
                    let read = read_sample(&mut job, dtype, budget, &mut guard);
                    lock(&queue).busy.retain(|busy| !Arc::ptr_eq(busy, &job.dataset));
                    session.reader_datasets.release(job.dataset);
                    if let Err(error) = read {
                        lock(&failed).get_or_insert((job.index, (!guard.interrupted).then_some(error)));
                    }
                }
            });
        }
    });
    // After a failure the windows left unread still hold their files' datasets: give them back.
    drop(queue);
    session.reader_datasets.trim();
    match failed.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        None => Ok(()),
        Some((_, None)) => Err(interrupt::interrupted()),
        Some((index, Some(error))) => {
            let message = list[index].target.relative_message(&error.to_string());
            Err(fail(F, format!("row {}: {message}", index + 1)))
        }
    }
}

/// The windows to read, file after file and each file's in raster order (tiles two windows share
/// are then decoded once, while they are still cached), each with its place in `values`. The
/// files with the most windows come first: a thread reads one file at a time, so the batch ends
/// soonest when the last files to be read are the shortest.
fn jobs_in_reading_order<'a>(
    session: &Session,
    list: &'a [Sample],
    (values, sample_bytes): (&'a mut [MaybeUninit<u8>], usize),
) -> Vec<Job<'a>> {
    let mut windows_of: HashMap<&Path, usize> = HashMap::new();
    for sample in list {
        *windows_of.entry(&sample.target.path).or_default() += 1;
    }
    let mut slots: Vec<_> = list.iter().zip(values.chunks_mut(sample_bytes)).enumerate().collect();
    slots.sort_by_key(|(_, (sample, _))| {
        let path = sample.target.path.as_path();
        (Reverse(windows_of[path]), path, sample.window.row, sample.window.col)
    });
    slots
        .into_iter()
        .map(|(index, (sample, slot))| Job {
            index,
            sample,
            slot,
            dataset: session.reader_datasets.dataset(&sample.target.path),
        })
        .collect()
}

/// The windows not yet read, and the datasets of the files threads are reading now.
struct Queue<'a> {
    pending: Vec<Job<'a>>,
    busy: Vec<SharedDataset>,
}

/// The first pending window whose file no other thread is reading, its file then marked busy
/// until the caller is done with it. None when every pending window's file is being read: a
/// dataset serves one thread at a time, so waiting for it would not read them any sooner, and the
/// thread that holds it reads them next (its decoded tiles, in its own memory, reused; a second
/// dataset of the file for the idle thread decoded them again and made batches 10 % slower).
fn next_job<'a>(queue: &Mutex<Queue<'a>>) -> Option<Job<'a>> {
    let mut queue = lock(queue);
    let Queue { pending, busy } = &mut *queue;
    let free = pending.iter().position(|job| !busy.iter().any(|file| Arc::ptr_eq(file, &job.dataset)))?;
    let job = pending.remove(free);
    busy.push(job.dataset.clone());
    Some(job)
}

/// One job's sample into its slot, through its file's dataset, which this thread holds
/// meanwhile: from the file's tiles when they are read without GDAL (kept in the process's tile
/// store), else through GDAL, after which the batch's budget of GDAL's decoded tiles is enforced
/// on that file.
fn read_sample(job: &mut Job, dtype: GdalDataType, budget: &TileBudget, guard: &mut Reader) -> Result<(), RasterError> {
    let Job { sample, slot, dataset, .. } = job;
    lock(dataset).with_tiles(&sample.target.path, |dataset, tiles| {
        let read = (dtype, sample.bands.as_slice(), sample.window);
        if write_values_from((dataset, tiles), budget.store_limit, read, guard, slot)? {
            budget.enforce(dataset);
        }
        Ok(())
    })
}

/// The guard of the reading threads: they stop when the host interrupts the statement or it runs
/// past its time limit (its reads were paid for when the rows were gathered).
struct Reader<'s> {
    session: &'s Session,
    db: Db,
    interrupted: bool,
}

impl ReadGuard for Reader<'_> {
    fn before_read(&mut self, _: usize) -> Result<(), RasterError> {
        match self.session.stop_reason(self.db.0) {
            Some(stop) => {
                self.interrupted = stop.is_interrupt();
                Err(stop.into())
            }
            None => Ok(()),
        }
    }
}
