//! `s12_batch(scene, modality, bands, col, row, width, height)`, an aggregate: the windows the
//! rows of a query name, as one `.npy` of shape (N, C, H, W) in the order the rows reach it — a
//! training batch. Each row is checked as it comes (scene, file, bands, window inside the raster,
//! the same C, H, W and type as the first row) and its values are charged to the statement's read
//! budget, so a statement over SEN12LITE_MAX_READ_VALUES is refused before anything is read. The
//! final call reads the windows in parallel through one dataset a file, shared by the threads (so
//! a tile two windows need is decoded once) and kept by the session between calls (so the files of
//! the next batch are open already), each window straight into its place in the result; every
//! read asks first whether the host interrupted the statement. SQLite takes the result as it is,
//! without a copy (`blob_result`), and does not copy it into the row either while it is lent
//! (`loan`).

use crate::raster::cache::lock;
use crate::raster::cache::{Pinned, SharedDataset, CHANGED};
use crate::raster::npy::{npy_header, numpy_descr, write_values};
use crate::raster::strips::{ReadGuard, Window};
use crate::raster::RasterError;
use crate::sql::runtime::arguments::{self, band_spec, fail};
use crate::sql::runtime::blob_result::{register_aggregate, BlobAggregate, RawArgs, SqliteBlob};
use crate::sql::runtime::interrupt;
use crate::sql::runtime::resolve::Target;
use crate::sql::runtime::session::Session;
use crate::sql::runtime::windows::checked_window;
use gdal::raster::GdalDataType;
use rusqlite::functions::FunctionFlags;
use rusqlite::{ffi, Connection, Error, Result};
use std::mem::MaybeUninit;
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
    let (head, values) = blob.uninit().split_at_mut(header.len());
    for (slot, byte) in head.iter_mut().zip(&header) {
        slot.write(*byte);
    }
    // SAFETY: the handle is only asked whether the statement was interrupted, while it runs.
    let db = Db(unsafe { conn.handle() });
    let pinned = Pinned::of(list.iter().map(|sample| sample.target.path.as_path()));
    read_all(session, db, &list, dtype, values, sample_bytes)?;
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

/// Reads every sample into its place in `values`, on up to one thread per core, through the
/// session's datasets (one a file, shared by the threads).
fn read_all(
    session: &Session,
    db: Db,
    list: &[Sample],
    dtype: GdalDataType,
    values: &mut [MaybeUninit<u8>],
    sample_bytes: usize,
) -> Result<()> {
    let readers =
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(MAX_READERS).min(list.len());
    let jobs = list.iter().zip(values.chunks_mut(sample_bytes)).enumerate();
    let pending = Mutex::new(
        jobs.map(|(index, (sample, slot))| Job {
            index,
            sample,
            slot,
            dataset: session.reader_datasets.dataset(&sample.target.path),
        })
        .collect::<Vec<_>>(),
    );
    // The first failure: its row, and its message (None: the host interrupted the statement).
    let failed: Mutex<Option<(usize, Option<RasterError>)>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..readers {
            scope.spawn(|| {
                let mut guard = Reader { session, db, interrupted: false };
                while lock(&failed).is_none() {
                    let Some(job) = next_job(&pending) else { return };
                    let read = read_sample(job.sample, dtype, job.slot, &job.dataset, &mut guard);
                    session.reader_datasets.release(job.dataset);
                    if let Err(error) = read {
                        lock(&failed).get_or_insert((job.index, (!guard.interrupted).then_some(error)));
                    }
                }
            });
        }
    });
    // After a failure the windows left unread still hold their files' datasets: give them back.
    drop(pending);
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

/// The first pending window whose file no other thread is reading (else the first pending one,
/// whose file's lock the caller then waits for). Choosing under the list's lock keeps two threads
/// from picking the same free file.
fn next_job<'a>(pending: &Mutex<Vec<Job<'a>>>) -> Option<Job<'a>> {
    let mut pending = lock(pending);
    let free = pending.iter().position(|job| job.dataset.try_lock().is_ok()).unwrap_or(0);
    (!pending.is_empty()).then(|| pending.remove(free))
}

/// One sample into `slot`, through its file's dataset, which this thread holds meanwhile.
fn read_sample(
    sample: &Sample,
    dtype: GdalDataType,
    slot: &mut [MaybeUninit<u8>],
    dataset: &SharedDataset,
    guard: &mut Reader,
) -> Result<(), RasterError> {
    lock(dataset).with_dataset(&sample.target.path, |dataset| {
        write_values(dataset, dtype, &sample.bands, sample.window, guard, slot)
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
