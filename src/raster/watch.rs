//! Writes to a file while it is read, as the kernel reports them (inotify). A file's size and
//! mtime ([`super::cache::FileIdentity`]) cannot tell every write: the kernel sets the mtime when
//! a write begins, so a read that starts while one write is under way sees the final mtime and
//! size before the new bytes are all there; and two writes within one tick of the file system's
//! clock leave the same mtime. Either way a read could mix two versions of a file unnoticed (the
//! soak of changing files found one such batch in 7,700). The kernel reports each write as it
//! ends, whenever it began.
//!
//! One inotify instance for the process, made at the first watch and never closed (nothing runs at
//! exit). After a fork the child makes its own: reading the inherited one would take the parent's
//! reports. Where the kernel refuses a watch (no instance left, a file system inotify does not
//! see, a remote file), reads fall back on the file's size and mtime alone.

use super::cache::lock;
use std::collections::HashMap;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Mutex;

/// Writes to one file since the watch began.
#[derive(Debug)]
pub struct FileWatch {
    instance: u64,
    descriptor: i32,
    /// The file's write count when the watch began.
    seen: u64,
}

impl FileWatch {
    /// Watches the local file `path` (following symlinks, as a read does); None when the kernel
    /// will not.
    pub fn begin(path: &Path) -> Option<FileWatch> {
        let name = CString::new(path.as_os_str().as_bytes()).ok()?;
        let mut held = lock(&INOTIFY);
        let inotify = this_process(&mut held)?;
        // Writes already queued are counted first: they happened before this watch began.
        inotify.drain();
        // SAFETY: the descriptor is an open inotify instance; the name is NUL-terminated.
        let descriptor = unsafe { libc::inotify_add_watch(inotify.fd, name.as_ptr(), libc::IN_MODIFY) };
        if descriptor < 0 {
            return None;
        }
        // The same file watched twice has one descriptor: both watches share its count.
        let watched = inotify.watches.entry(descriptor).or_default();
        watched.users += 1;
        Some(FileWatch { instance: inotify.instance, descriptor, seen: watched.writes })
    }

    /// Whether the file was written (or truncated) since the watch began. Always true in a child
    /// of the process that began it, which cannot tell.
    pub fn written(&self) -> bool {
        let mut held = lock(&INOTIFY);
        let Some(inotify) = held.as_mut().filter(|inotify| inotify.owns(self)) else { return true };
        inotify.drain();
        inotify.watches.get(&self.descriptor).is_none_or(|watched| watched.writes != self.seen)
    }
}

impl Drop for FileWatch {
    fn drop(&mut self) {
        let mut held = lock(&INOTIFY);
        let Some(inotify) = held.as_mut().filter(|inotify| inotify.owns(self)) else { return };
        let Some(watched) = inotify.watches.get_mut(&self.descriptor) else { return };
        watched.users -= 1;
        if watched.users == 0 {
            inotify.watches.remove(&self.descriptor);
            // SAFETY: an open instance and a descriptor it gave; its last user is gone.
            unsafe { libc::inotify_rm_watch(inotify.fd, self.descriptor) };
        }
    }
}

/// The process's inotify instance and the files it watches, by watch descriptor.
struct Inotify {
    fd: i32,
    process: u32,
    /// Which instance of the process's life: a watch of an earlier one is not this one's.
    instance: u64,
    watches: HashMap<i32, Watched>,
}

#[derive(Default)]
struct Watched {
    users: usize,
    writes: u64,
}

static INOTIFY: Mutex<Option<Inotify>> = Mutex::new(None);

/// The instance of this process, made now if there is none or it is a parent's.
fn this_process(held: &mut Option<Inotify>) -> Option<&mut Inotify> {
    let process = std::process::id();
    if held.as_ref().is_none_or(|inotify| inotify.process != process) {
        // SAFETY: no pointer arguments. The parent's descriptor, if any, is left open: this
        // process may have closed it and reused its number since.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        let instance = held.as_ref().map_or(0, |inotify| inotify.instance + 1);
        *held = Some(Inotify { fd, process, instance, watches: HashMap::new() });
    }
    held.as_mut()
}

/// Bytes of an inotify event before its name: wd, mask, cookie, name length.
const EVENT_HEADER: usize = 16;

impl Inotify {
    fn owns(&self, watch: &FileWatch) -> bool {
        self.instance == watch.instance && self.process == std::process::id()
    }

    /// Counts every event the kernel has queued: a write to a watched file, its removal, or a
    /// full queue (events lost: every file may have been written).
    fn drain(&mut self) {
        let mut buffer = [0u8; 4096];
        loop {
            // SAFETY: the instance is open and non-blocking; the buffer holds its length.
            let read = unsafe { libc::read(self.fd, buffer.as_mut_ptr().cast(), buffer.len()) };
            let Ok(read) = usize::try_from(read) else { return };
            if read == 0 {
                return;
            }
            let mut events = &buffer[..read];
            while events.len() >= EVENT_HEADER {
                let word = |at: usize| u32::from_ne_bytes([events[at], events[at + 1], events[at + 2], events[at + 3]]);
                let (descriptor, mask, name) = (word(0).cast_signed(), word(4), word(12) as usize);
                if mask & libc::IN_Q_OVERFLOW != 0 {
                    self.watches.values_mut().for_each(|watched| watched.writes += 1);
                } else if let Some(watched) = self.watches.get_mut(&descriptor) {
                    watched.writes += 1;
                }
                events = events.get(EVENT_HEADER + name..).unwrap_or_default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::cache::FileIdentity;
    use std::fs::{self, File, OpenOptions};
    use std::io::Write;
    use std::path::PathBuf;

    /// A file of `bytes` that this test alone uses (`name`).
    fn file_with(name: &str, bytes: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!("s12-watch-{}-{name}", std::process::id()));
        fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn a_rewrite_that_keeps_size_and_mtime_is_seen() {
        let path = file_with("kept", b"version 0");
        let before = FileIdentity::of(&path).unwrap();
        let modified = fs::metadata(&path).unwrap().modified().unwrap();
        let watch = FileWatch::begin(&path).expect("inotify watches a local file");
        assert!(!watch.written());
        let mut file = OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all(b"version 1").unwrap();
        file.set_modified(modified).unwrap();
        drop(file);
        assert_eq!(FileIdentity::of(&path).unwrap(), before, "size and mtime cannot tell this write");
        assert!(watch.written());
        fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_read_or_another_file_written_is_not_a_write() {
        let (path, other) = (file_with("read", b"data"), file_with("other", b"other"));
        let watch = FileWatch::begin(&path).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"data");
        fs::write(&other, b"changed").unwrap();
        assert!(!watch.written());
        fs::remove_file(path).unwrap();
        fs::remove_file(other).unwrap();
    }

    #[test]
    fn two_watches_of_one_file_share_its_reports_and_outlive_each_other() {
        let path = file_with("shared", b"data");
        let first = FileWatch::begin(&path).unwrap();
        let second = FileWatch::begin(&path).unwrap();
        drop(first);
        File::options().append(true).open(&path).unwrap().write_all(b"more").unwrap();
        assert!(second.written());
        let third = FileWatch::begin(&path).unwrap();
        assert!(!third.written(), "a watch begun after a write does not see it");
        fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_missing_file_is_not_watched() {
        assert!(FileWatch::begin(Path::new("/nonexistent/sen12lite/a.tif")).is_none());
    }
}
