//! Files through GDAL's virtual file systems, for a data root in object storage (`/vsis3/`,
//! `/vsigs/`, `/vsiaz/`, `/vsicurl/`) and the archives read in place: the operator's permission to
//! use a remote root, stat, list, and read whole or as a stream. Local paths go through `std::fs`,
//! so callers need not tell the two apart.

use super::error::{RasterError, Result};
use super::open::{init_gdal, is_virtual, last_gdal_error, QuietGdal};
use std::ffi::CString;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The operator's list of remote data roots that may be read: the environment, because a catalog
/// must not be able to point the extension at a server of its choosing.
pub const ALLOW_REMOTE_VAR: &str = "SEN12LITE_ALLOW_REMOTE";
/// GDAL's network file systems that a data root may be on.
pub const REMOTE_SCHEMES: [&str; 4] = ["/vsis3/", "/vsigs/", "/vsiaz/", "/vsicurl/"];

/// The network file system of a virtual root; an error for any other virtual path (`/vsimem/`,
/// an archive, ...), which cannot be a data root.
pub fn remote_scheme(root: &str) -> Result<&'static str> {
    REMOTE_SCHEMES.iter().copied().find(|scheme| root.starts_with(scheme)).ok_or_else(|| {
        RasterError::Vsi(format!(
            "data_root is a GDAL virtual path that cannot be a data root (allowed: {})",
            REMOTE_SCHEMES.join(", ")
        ))
    })
}

/// Whether a remote `root` (of `scheme`) lies under one of the prefixes in
/// $SEN12LITE_ALLOW_REMOTE: commas or spaces between them; a prefix ends at a `/`, so
/// `/vsis3/bucket` does not allow `/vsis3/bucket-2`, and must name more than the file system.
pub fn allowed_by_operator(root: &str, scheme: &str) -> bool {
    let root = root.trim_end_matches('/');
    let allowed = std::env::var(ALLOW_REMOTE_VAR).unwrap_or_default();
    !root.split('/').any(|part| part == "..")
        && allowed
            .split([',', ' '])
            .map(|prefix| prefix.trim().trim_end_matches('/'))
            .filter(|prefix| prefix.len() > scheme.len())
            .any(|prefix| root == prefix || root.starts_with(&format!("{prefix}/")))
}

/// A file's size and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Its size in bytes.
    pub bytes: u64,
    /// Its modification time in nanoseconds since the Unix epoch (object stores give seconds).
    pub mtime_ns: i64,
    /// Whether it is a regular file (not a folder, FIFO or device).
    pub is_file: bool,
}

/// GDAL's stat of a path (for an object store, one request, or none when a listing of its folder
/// already told GDAL); the error is GDAL's message, or says there is no such file.
pub fn stat(path: &Path) -> Result<Stat> {
    init_gdal();
    let name = c_path(path)?;
    let _quiet = QuietGdal::new();
    // SAFETY: stat64 is plain integers, for which all zeroes is a valid value.
    let mut stat: libc::stat64 = unsafe { std::mem::zeroed() };
    // SAFETY: resets this thread's last GDAL error; no pointer is involved.
    unsafe { gdal_sys::CPLErrorReset() };
    // SAFETY: VSIStatBufL is the platform's stat64, which VSIStatL fills for a NUL-terminated path.
    if unsafe { gdal_sys::VSIStatL(name.as_ptr(), (&raw mut stat).cast()) } != 0 {
        let message = last_gdal_error();
        let reason = if message.is_empty() { "no such file or object".to_string() } else { message };
        return Err(RasterError::unreadable(path, reason));
    }
    Ok(Stat {
        bytes: stat.st_size as u64,
        mtime_ns: stat.st_mtime * 1_000_000_000 + stat.st_mtime_nsec,
        is_file: stat.st_mode & libc::S_IFMT == libc::S_IFREG,
    })
}

/// Every file below a virtual folder, relative to it, in name order (folders are not listed).
pub fn list_files(folder: &Path) -> Result<Vec<String>> {
    init_gdal();
    let _quiet = QuietGdal::new();
    let entries = gdal::vsi::read_dir(folder, true)
        .map_err(|_| RasterError::Vsi(format!("cannot list: {}", last_gdal_error())))?;
    // VSIReadDirRecursive lists folders with a trailing '/'.
    let mut files: Vec<String> = entries
        .iter()
        .map(|entry| entry.to_string_lossy().into_owned())
        .filter(|entry| !entry.ends_with('/'))
        .collect();
    files.sort();
    Ok(files)
}

/// The whole of a text file, local or virtual.
pub fn read_to_string(path: &Path) -> Result<String> {
    if !is_virtual(path) {
        return std::fs::read_to_string(path).map_err(|e| RasterError::unreadable(path, e));
    }
    let mut text = String::new();
    let mut file = VsiFile::open(path)?;
    file.read_to_string(&mut text).map_err(|e| RasterError::unreadable(path, e))?;
    Ok(text)
}

/// `path` for GDAL's C API.
fn c_path(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| RasterError::Vsi(format!("a NUL byte in the path {}", path.display())))
}

/// A reader of a local or virtual file.
pub fn open_reader(path: &Path) -> std::io::Result<Box<dyn Read>> {
    if is_virtual(path) {
        return Ok(Box::new(VsiFile::open(path).map_err(std::io::Error::other)?));
    }
    Ok(Box::new(std::fs::File::open(path)?))
}

/// An open GDAL file handle, read front to back or at offsets; closed on drop.
pub struct VsiFile {
    path: PathBuf,
    handle: *mut gdal_sys::VSILFILE,
}

// SAFETY: the handle is used by one thread at a time (its owner; the archive streams sit in a Mutex).
unsafe impl Send for VsiFile {}

impl VsiFile {
    /// Opens `path` for reading; the error carries GDAL's message.
    pub fn open(path: &Path) -> Result<VsiFile> {
        init_gdal();
        let name = c_path(path)?;
        let _quiet = QuietGdal::new();
        // SAFETY: NUL-terminated path and mode; the handle is closed in drop.
        let handle = unsafe { gdal_sys::VSIFOpenL(name.as_ptr(), c"rb".as_ptr()) };
        if handle.is_null() {
            return Err(RasterError::unreadable(path, last_gdal_error()));
        }
        Ok(VsiFile { path: path.to_path_buf(), handle })
    }

    /// The path it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Up to `length` bytes from `offset` (fewer at the end); None when the file cannot seek there.
    /// A forward seek in a gzip stream decompresses and skips; a backward one restarts it.
    pub fn read_at(&mut self, offset: u64, length: usize) -> Option<Vec<u8>> {
        let mut buffer = Vec::new();
        self.read_at_into(offset, length, &mut buffer)?;
        Some(buffer)
    }

    /// [`VsiFile::read_at`] into `buffer`, whose content it replaces: a caller reading many
    /// pieces reuses one allocation (no page faults on fresh memory for each).
    pub fn read_at_into(&mut self, offset: u64, length: usize, buffer: &mut Vec<u8>) -> Option<()> {
        // SAFETY: the handle is open.
        if unsafe { gdal_sys::VSIFSeekL(self.handle, offset, SEEK_SET) } != 0 {
            return None;
        }
        buffer.resize(length, 0);
        let read = self.read_into(buffer);
        buffer.truncate(read);
        Some(())
    }

    fn read_into(&mut self, buffer: &mut [u8]) -> usize {
        // SAFETY: the handle is open; the buffer holds `buffer.len()` bytes.
        unsafe { gdal_sys::VSIFReadL(buffer.as_mut_ptr().cast(), 1, buffer.len(), self.handle) }
    }

    /// The handle's position.
    fn tell(&mut self) -> u64 {
        // SAFETY: the handle is open.
        unsafe { gdal_sys::VSIFTellL(self.handle) }
    }
}

impl Read for VsiFile {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.read_into(buffer);
        // SAFETY: the handle is open. A short read before the end is a failed one (a server that
        // stopped answering): GDAL's last error says why.
        if read < buffer.len() && unsafe { gdal_sys::VSIFEofL(self.handle) } == 0 {
            return Err(std::io::Error::other(last_gdal_error()));
        }
        Ok(read)
    }
}

impl Seek for VsiFile {
    /// Moves the handle (the `tar` crate passes over members' data this way). In a gzip stream a
    /// forward move decompresses and skips; a backward one restarts the stream.
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::Current(delta) => self.tell().checked_add_signed(delta),
            SeekFrom::End(delta) => {
                // SAFETY: the handle is open.
                if unsafe { gdal_sys::VSIFSeekL(self.handle, 0, SEEK_END) } != 0 {
                    return Err(std::io::Error::other(last_gdal_error()));
                }
                self.tell().checked_add_signed(delta)
            }
        };
        let target = target.ok_or_else(|| std::io::Error::other(format!("a seek before the start: {to:?}")))?;
        // SAFETY: the handle is open.
        if unsafe { gdal_sys::VSIFSeekL(self.handle, target, SEEK_SET) } != 0 {
            return Err(std::io::Error::other(last_gdal_error()));
        }
        Ok(target)
    }
}

impl Drop for VsiFile {
    fn drop(&mut self) {
        // SAFETY: opened in `open`, closed once here.
        unsafe { gdal_sys::VSIFCloseL(self.handle) };
    }
}

/// The seek origins of stdio (SEEK_SET, SEEK_END), which VSIFSeekL takes.
const SEEK_SET: std::ffi::c_int = 0;
const SEEK_END: std::ffi::c_int = 2;
