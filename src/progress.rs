//! How a long job (an ingest, a verify) tells how far it has come. The library only reports; the
//! command line draws a line on stderr (`cli::progress`), and a library user may pass [`Silent`].

/// Told how a long job goes: the number of items first, then each item as it is done.
pub trait Progress {
    /// The job has `total` items to do, worth `total_bytes` on disk (0: not counted in bytes).
    fn begin(&mut self, total: usize, total_bytes: u64);
    /// One item is done: `bytes` read, `failed` or not.
    fn advance(&mut self, bytes: u64, failed: bool);
}

/// Progress nobody watches.
pub struct Silent;

impl Progress for Silent {
    fn begin(&mut self, _: usize, _: u64) {}
    fn advance(&mut self, _: u64, _: bool) {}
}
