//! The downloads, read without unpacking: SEN12MS's `.tar.gz` files and SEN12TP's `.zip` files
//! are opened through GDAL's virtual file systems (`/vsitar/`, which reads `.tar.gz` too, and
//! `/vsizip/`), and their dataset members catalogued as `{archive}/{member}`.
//!
//! Listing a `.tar.gz` decompresses all of it, so an archive whose catalog rows carry its current
//! mtime is not listed again: its members are taken from the catalog (incremental, like plain
//! files). Metadata files, split lists and checksums inside archives are not read.

use super::discover::{recognise, set_aside_second_copies, Found, FoundFile, OnDisk, Recognised};
use super::{CatalogError, CatalogResult};
use crate::raster::open::{archive_member, gdal_message, member_path, QuietGdal};
use crate::raster::vsi::{self, VsiFile};
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// The archive and member of a `/vsitar/` path, for members read by streaming the archive.
pub fn tar_member(path: &Path) -> Option<(PathBuf, String)> {
    archive_member(path).filter(|_| path.starts_with("/vsitar/"))
}

/// Adds the dataset files inside `found.archives` to `found.files`. `catalog`, when there is one,
/// gives the members of archives unchanged since they were catalogued. An archive GDAL cannot
/// list is a discover problem; one without a dataset file is reported as unused. The members of
/// an archive stay together in the archive's order, so that reading them is one pass.
pub fn expand(found: &mut Found, catalog: Option<&Connection>) -> CatalogResult<()> {
    let mut groups: Vec<(String, Vec<FoundFile>)> =
        std::mem::take(&mut found.files).into_iter().map(|file| (file.relative.clone(), vec![file])).collect();
    for archive in std::mem::take(&mut found.archives) {
        let mtime = archive.stat.mtime_ns;
        let known = match catalog {
            Some(conn) => {
                catalogued_members(conn, &archive.relative, mtime).map_err(|e| CatalogError::Ingest(e.to_string()))?
            }
            None => Vec::new(),
        };
        let members = if known.is_empty() { list_members(&archive.path) } else { Ok(known) };
        let files = match members {
            Ok(members) => dataset_members(found, &archive, mtime, members),
            Err(error) => {
                found.problems.push((archive.relative.clone(), error.to_string()));
                Vec::new()
            }
        };
        if files.is_empty() {
            found.unused.archives.push(archive.relative.clone());
        }
        groups.push((archive.relative, files));
    }
    // Path order, an archive's members at the archive's name: an unpacked copy of a member
    // (`ROIs1158_spring/...` before `ROIs1158_spring_s1.tar.gz`) sorts first and is the one kept.
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    found.files = groups.into_iter().flat_map(|(_, files)| files).collect();
    found.unused.archives.sort();
    set_aside_second_copies(found);
    Ok(())
}

/// Files of the dataset among an archive's (member, bytes), in the archive's order; its other
/// members are not ours. An archive without one is a discover problem (in a tree with data).
fn dataset_members(found: &mut Found, archive: &OnDisk, mtime_ns: i64, members: Vec<(String, u64)>) -> Vec<FoundFile> {
    // Each member moves the progress by its share of the archive's bytes on disk.
    let unpacked: u64 = members.iter().map(|(_, bytes)| bytes).sum();
    let share = archive.stat.bytes as f64 / unpacked.max(1) as f64;
    let mut files = Vec::new();
    for (member, bytes) in members {
        let mut folders = member.rsplit('/');
        let name = folders.next().unwrap_or_default();
        let (parent, top) = (folders.next().unwrap_or_default(), folders.next().unwrap_or_default());
        let relative = format!("{}/{member}", archive.relative);
        match recognise(top, parent, name) {
            Recognised::Raster(scene, modality) => files.push(FoundFile {
                path: member_path(&archive.path, &member),
                relative,
                scene,
                modality,
                bytes,
                mtime_ns,
                progress_bytes: (bytes as f64 * share).round() as u64,
            }),
            Recognised::Misnamed(message) => found.problems.push((relative, message)),
            _ => {}
        }
    }
    if files.is_empty() {
        found.problems.push((archive.relative.clone(), "no dataset file in this archive".into()));
    }
    files
}

/// (member, bytes) of every file in the archive, in the archive's order: a tar's from its own
/// headers (one pass, no member opened), a zip's from its directory.
fn list_members(archive: &Path) -> CatalogResult<Vec<(String, u64)>> {
    if !archive.to_string_lossy().ends_with(".zip") {
        let mut stream = TarStream::open(archive)?;
        let mut members = Vec::new();
        while let Some(entry) = stream.next_entry()? {
            members.push((entry.name, entry.size));
        }
        return Ok(members);
    }
    let _quiet = QuietGdal::new();
    let root = member_path(archive, "");
    let root = root.to_string_lossy().trim_end_matches('/').to_string();
    let entries =
        gdal::vsi::read_dir(&root, true).map_err(|e| archive_error("cannot list the archive", gdal_message(&e)))?;
    let mut members = Vec::new();
    // Folders are listed with a trailing '/'.
    for entry in entries.iter().map(|e| e.to_string_lossy()).filter(|e| !e.ends_with('/')) {
        let member = entry.into_owned();
        if let Some(bytes) = file_size(&format!("{root}/{member}")) {
            members.push((member, bytes));
        }
    }
    Ok(members)
}

/// The size of a file GDAL can open (a member: the archive's index knows it, nothing is read).
fn file_size(path: &str) -> Option<u64> {
    vsi::stat(Path::new(path)).ok().map(|stat| stat.bytes)
}

/// The members of an archive the catalog holds with the archive's current mtime: all of them
/// were catalogued from this very archive, so it need not be listed again.
fn catalogued_members(conn: &Connection, archive: &str, mtime_ns: i64) -> rusqlite::Result<Vec<(String, u64)>> {
    let prefix = format!("{archive}/");
    let mut statement = conn.prepare_cached(
        "SELECT substr(path, length(?1) + 1), bytes, mtime = ?2 FROM files WHERE substr(path, 1, length(?1)) = ?1",
    )?;
    let rows: Vec<(String, i64, bool)> = statement
        .query_map(rusqlite::params![prefix, mtime_ns], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let all_current = rows.iter().all(|(_, _, current)| *current);
    Ok(if all_current {
        rows.into_iter().map(|(member, bytes, _)| (member, bytes as u64)).collect()
    } else {
        Vec::new()
    })
}

/// A member's header: its name and size, its data next in the stream.
pub struct TarEntry {
    /// The member's path in the archive.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A tar archive (gzip-compressed or not) read front to back through one GDAL handle: members come
/// in archive order, and a member behind the current position means starting over. Reading the
/// members in order is one sequential pass, however large the archive; nothing but the member
/// asked for is kept in memory.
pub struct TarStream {
    file: VsiFile,
    /// Offset of the next header in the uncompressed stream.
    next_header: u64,
    /// The last members passed on the way to one asked for, with their data.
    passed: std::collections::VecDeque<(String, Vec<u8>)>,
}

const BLOCK: u64 = 512;
/// Members kept after being passed: enough for the workers of a machine asking out of order by a
/// few places, few enough that memory stays a few members' size.
const PASSED_KEPT: usize = 8;

impl TarStream {
    /// Opens `archive` (`.tar`, `.tar.gz`, `.tgz`) at its first member.
    pub fn open(archive: &Path) -> CatalogResult<TarStream> {
        let name = archive.to_string_lossy();
        let compressed = name.ends_with(".gz") || name.ends_with(".tgz");
        let path = if compressed { format!("/vsigzip/{name}") } else { name.into_owned() };
        let file = VsiFile::open(Path::new(&path)).map_err(|e| archive_error("cannot open the archive", e))?;
        Ok(TarStream { file, next_header: 0, passed: Default::default() })
    }

    /// The next regular file's header, None at the end. GNU long names and POSIX pax paths are
    /// followed; folders, links and other entries are passed over.
    pub fn next_entry(&mut self) -> CatalogResult<Option<TarEntry>> {
        let mut long_name = None;
        loop {
            let header = self.read_at(self.next_header, BLOCK as usize)?;
            if header.len() < BLOCK as usize || header.iter().all(|&b| b == 0) {
                return Ok(None);
            }
            let size = octal(&header[124..136]).ok_or_else(|| self.corrupt("a size that is not octal"))?;
            let data = self.next_header + BLOCK;
            self.next_header = data + size.next_multiple_of(BLOCK);
            let name = || {
                let prefix = c_string(&header[345..500]);
                let name = c_string(&header[0..100]);
                if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                }
            };
            match header[156] {
                b'L' => long_name = Some(c_string(&self.read_at(data, size as usize)?)),
                b'x' => long_name = pax_path(&self.read_at(data, size as usize)?).or(long_name),
                b'0' | 0 => {
                    let name = long_name.take().unwrap_or_else(name);
                    // `tar -C dir .` writes `./ROIs1158_spring/...`: the same member as without it.
                    let name = name.trim_start_matches("./").to_string();
                    return Ok(Some(TarEntry { name, size }));
                }
                _ => long_name = None,
            }
        }
    }

    /// The data of the member `name`. The stream goes forward to it, keeping the last members it
    /// passed (workers asking for neighbours in another order find them there); a member further
    /// behind means starting over (an archive listed in another order than asked).
    pub fn read_member(&mut self, name: &str) -> CatalogResult<Vec<u8>> {
        if let Some(at) = self.passed.iter().position(|(passed, _)| passed == name) {
            return Ok(self.passed.remove(at).map(|(_, data)| data).unwrap_or_default());
        }
        for attempt in 0..2 {
            while let Some(entry) = self.next_entry()? {
                let data = self.read_at(self.next_header - entry.size.next_multiple_of(BLOCK), entry.size as usize)?;
                if entry.name == name {
                    return Ok(data);
                }
                if self.passed.len() == PASSED_KEPT {
                    self.passed.pop_front();
                }
                self.passed.push_back((entry.name, data));
            }
            if attempt == 0 {
                self.next_header = 0;
            }
        }
        Err(CatalogError::Archive(format!("{name} is not in the archive")))
    }

    fn read_at(&mut self, offset: u64, length: usize) -> CatalogResult<Vec<u8>> {
        self.file.read_at(offset, length).ok_or_else(|| self.corrupt("a seek past its end"))
    }

    fn corrupt(&self, what: &str) -> CatalogError {
        CatalogError::Archive(format!("not a readable tar archive ({what} in {})", self.file.path().display()))
    }
}

/// [`CatalogError::Archive`]: what failed, and why.
fn archive_error(what: &str, reason: impl std::fmt::Display) -> CatalogError {
    CatalogError::Archive(format!("{what}: {reason}"))
}

/// A NUL-padded tar field as text.
fn c_string(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// A tar number: octal digits, space- or NUL-terminated.
fn octal(field: &[u8]) -> Option<u64> {
    let text = c_string(field);
    let digits = text.trim();
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

/// The `path` record of a POSIX pax header (`"{length} path={name}\n"` records).
fn pax_path(records: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(records);
    text.lines().find_map(|line| line.split_once(' ')?.1.strip_prefix("path=").map(str::to_string))
}
