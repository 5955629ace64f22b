//! Open datasets kept per thread (GDAL datasets are Send, not Sync), least recently used first
//! out, so a query over many windows of a few scenes opens each file once.

use super::open::open_geotiff;
use gdal::Dataset;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

const OPEN_DATASETS_PER_THREAD: usize = 16;

thread_local! {
    static OPEN: RefCell<Vec<(PathBuf, Dataset)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the open dataset of `path`, opening it if it is not cached.
pub fn with_dataset<R>(path: &Path, f: impl FnOnce(&Dataset) -> Result<R, String>) -> Result<R, String> {
    OPEN.with(|cell| {
        let mut open = cell.borrow_mut();
        let entry = match open.iter().position(|(p, _)| p == path) {
            Some(index) => open.remove(index),
            None => (path.to_path_buf(), open_geotiff(path)?),
        };
        open.insert(0, entry);
        open.truncate(OPEN_DATASETS_PER_THREAD);
        f(&open[0].1)
    })
}
