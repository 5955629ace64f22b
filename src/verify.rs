//! `md5sums.txt` in `md5sum` format (`<hex>  <path>`): written by `synth`, checked by `verify`.

use crate::parallel::{default_jobs, for_each_parallel};
use crate::progress::Progress;
use crate::raster::RasterError;
// MD5 by the `md-5` crate with its assembly backend (`asm`): as fast here as OpenSSL's libcrypto
// (`make bench`: bench/checksum_bench.py), without declaring a C struct's layout by hand.
use md5::{Digest, Md5};
use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// The checksum list's name, anywhere in the tree.
pub const MD5SUMS_FILE: &str = "md5sums.txt";

/// The md5 of a file's content, as lower-case hex.
pub fn md5_file(path: &Path) -> std::io::Result<String> {
    let mut file = crate::raster::vsi::open_reader(path)?;
    let mut hasher = Md5::new();
    // Below malloc's mmap threshold: a buffer per file comes from the heap, not fresh pages.
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(to_hex(&hasher.finalize()))
}

/// What can stop writing or checking a checksum list.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The list cannot be read.
    #[error(transparent)]
    Listing(#[from] RasterError),
    /// A file cannot be read, or the list written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// "read" or "write".
        action: &'static str,
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// Writes `root/md5sums.txt` for `files` (paths below `root`).
pub fn write_md5sums(root: &Path, files: &[PathBuf]) -> Result<(), VerifyError> {
    let mut lines = Vec::new();
    for file in files {
        let digest = md5_file(file).map_err(|source| io_error("read", file, source))?;
        let relative = file.strip_prefix(root).unwrap_or(file);
        lines.push(format!("{digest}  {}\n", relative.display()));
    }
    let listing = root.join(MD5SUMS_FILE);
    std::fs::write(&listing, lines.concat()).map_err(|source| io_error("write", &listing, source))
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> VerifyError {
    VerifyError::Io { action, path: path.display().to_string(), source }
}

/// One line of the check: the path and what went wrong.
#[derive(Debug, PartialEq)]
pub struct Mismatch {
    /// The file, as the list names it.
    pub path: String,
    /// What is wrong: a different checksum, or why it could not be read.
    pub problem: String,
}

/// The lines of an md5sums.txt: (lowercase hex, path relative to the listing's folder). A line
/// without a separator keeps an empty hex, which `md5_problem` reports as malformed.
pub fn read_md5sums(listing: &Path) -> Result<Vec<(String, String)>, VerifyError> {
    let text = crate::raster::vsi::read_to_string(listing)?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.split_once(' ') {
            Some((hex, path)) => (hex.to_ascii_lowercase(), path.trim_start_matches([' ', '*']).to_string()),
            None => (String::new(), l.to_string()),
        })
        .collect())
}

/// 32 hex digits: the first field of a well-formed md5sums.txt line.
pub fn is_md5_hex(hex: &str) -> bool {
    hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What is wrong with `path` against its listed checksum, None when it matches.
pub fn md5_problem(path: &Path, hex: &str) -> Option<String> {
    checksum_problem(hex, || md5_file(path))
}

/// [`md5_problem`] of a file's content read before.
pub fn md5_problem_of_bytes(bytes: &[u8], hex: &str) -> Option<String> {
    checksum_problem(hex, || Ok(to_hex(&Md5::digest(bytes))))
}

/// What is wrong with a checksum listed as `hex` whose file hashes to `digest()`.
fn checksum_problem(hex: &str, digest: impl FnOnce() -> std::io::Result<String>) -> Option<String> {
    if !is_md5_hex(hex) {
        return Some(format!("malformed line in {MD5SUMS_FILE}"));
    }
    match digest() {
        Ok(digest) if digest == hex => None,
        Ok(digest) => Some(format!("checksum mismatch: expected {hex}, found {digest} ({MD5SUMS_FILE})")),
        Err(e) => Some(format!("cannot read: {e}")),
    }
}

/// Lower-case hex, as md5sum writes a digest.
fn to_hex(digest: &[u8]) -> String {
    use std::fmt::Write;
    digest.iter().fold(String::with_capacity(2 * digest.len()), |mut hex, b| {
        let _ = write!(hex, "{b:02x}"); // writing to a String cannot fail
        hex
    })
}

/// Checks every line of `root/md5sums.txt` in parallel; returns (files checked, mismatches).
pub fn verify_tree(
    root: &Path,
    jobs: Option<usize>,
    progress: &mut dyn Progress,
) -> Result<(usize, Vec<Mismatch>), VerifyError> {
    let entries = read_md5sums(&root.join(MD5SUMS_FILE))?;
    progress.begin(entries.len(), 0);
    let mut mismatches = Vec::new();
    let check = |(hex, path): &(String, String)| md5_problem(&root.join(path), hex);
    for_each_parallel(&entries, jobs.unwrap_or_else(default_jobs), check, |index, problem| {
        progress.advance(0, problem.is_some());
        if let Some(problem) = problem {
            mismatches.push(Mismatch { path: entries[index].1.clone(), problem });
        }
        ControlFlow::Continue(())
    });
    mismatches.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((entries.len(), mismatches))
}

#[cfg(test)]
mod tests {
    use super::{Digest, Md5};

    fn hex(bytes: &[u8], pieces: usize) -> String {
        let mut hasher = Md5::new();
        bytes.chunks(bytes.len().div_ceil(pieces).max(1)).for_each(|piece| hasher.update(piece));
        super::to_hex(&hasher.finalize())
    }

    #[test]
    fn digests_are_rfc_1321s() {
        // The test suite of RFC 1321, appendix A.5, whole and fed in pieces.
        for pieces in [1, 3] {
            assert_eq!(hex(b"", pieces), "d41d8cd98f00b204e9800998ecf8427e");
            assert_eq!(hex(b"abc", pieces), "900150983cd24fb0d6963f7d28e17f72");
            assert_eq!(hex(b"message digest", pieces), "f96b697d7cb7938d525a2f31aaf161d0");
            let numbers = b"12345678901234567890123456789012345678901234567890123456789012345678901234567890";
            assert_eq!(hex(numbers, pieces), "57edf4a22be3c955ac49da2e2107b67a");
        }
    }
}
