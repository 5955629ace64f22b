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
use std::collections::VecDeque;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

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
        let mut tar = tar::Archive::new(open_tar(archive)?);
        let mut members = Vec::new();
        // Seeking over the members' data: a plain tar's listing reads only its headers.
        for entry in tar.entries_with_seek().map_err(|e| unreadable(archive, e))? {
            let entry = entry.map_err(|e| unreadable(archive, e))?;
            if let Some(name) = file_name(&entry).map_err(|e| unreadable(archive, e))? {
                members.push((name, entry.size()));
            }
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

/// A tar archive (gzip-compressed or not) read front to back by the `tar` crate over one GDAL
/// handle, on a thread of its own that reads the next member while the caller scans this one.
/// Members come in archive order, and a member behind the current position means starting over.
/// Reading the members in order is one sequential pass, however large the archive; no more than
/// the member asked for, the one read ahead and the last few passed are kept in memory.
pub struct TarStream {
    archive: PathBuf,
    members: Receiver<CatalogResult<(String, Vec<u8>)>>,
    reader: Option<JoinHandle<()>>,
    /// The last members passed on the way to one asked for, with their data.
    passed: VecDeque<(String, Vec<u8>)>,
}

/// Members kept after being passed: enough for the workers of a machine asking out of order by a
/// few places, few enough that memory stays a few members' size.
const PASSED_KEPT: usize = 8;

impl TarStream {
    /// Opens `archive` (`.tar`, `.tar.gz`, `.tgz`) at its first member.
    pub fn open(archive: &Path) -> CatalogResult<TarStream> {
        let (members, reader) = read_ahead(archive)?;
        Ok(TarStream { archive: archive.to_path_buf(), members, reader: Some(reader), passed: VecDeque::new() })
    }

    /// The data of the member `name`. The stream goes forward to it, keeping the last members it
    /// passed (workers asking for neighbours in another order find them there); a member further
    /// behind means starting over (an archive listed in another order than asked).
    pub fn read_member(&mut self, name: &str) -> CatalogResult<Vec<u8>> {
        if let Some(at) = self.passed.iter().position(|(passed, _)| passed == name) {
            return Ok(self.passed.remove(at).map(|(_, data)| data).unwrap_or_default());
        }
        for attempt in 0..2 {
            while let Ok(member) = self.members.recv() {
                let (member, data) = member?;
                if member == name {
                    return Ok(data);
                }
                if self.passed.len() == PASSED_KEPT {
                    self.passed.pop_front();
                }
                self.passed.push_back((member, data));
            }
            self.stop_reader()?;
            if attempt == 0 {
                let (members, reader) = read_ahead(&self.archive)?;
                (self.members, self.reader) = (members, Some(reader));
            }
        }
        Err(CatalogError::Archive(format!("{name} is not in the archive")))
    }

    /// Ends the reading thread: at once when it is waiting to hand over a member (the channel is
    /// closed), after the member it is reading otherwise. A panic in it is an error of the archive.
    fn stop_reader(&mut self) -> CatalogResult<()> {
        self.members = mpsc::sync_channel(0).1;
        match self.reader.take().map(JoinHandle::join) {
            Some(Err(_)) => {
                Err(CatalogError::Archive(format!("reading {} stopped on an internal error", self.archive.display())))
            }
            _ => Ok(()),
        }
    }
}

impl Drop for TarStream {
    fn drop(&mut self) {
        // Nothing to tell anyone now: the stream is being let go.
        let _ = self.stop_reader();
    }
}

/// A thread that reads `archive`'s files in order and hands each over, reading the next while
/// the last waits; it stops at the end, at an error (handed over too), or when the receiver is
/// gone.
type Members = (Receiver<CatalogResult<(String, Vec<u8>)>>, JoinHandle<()>);
fn read_ahead(archive: &Path) -> CatalogResult<Members> {
    let file = open_tar(archive)?;
    let path = archive.to_path_buf();
    let (sender, receiver) = mpsc::sync_channel(1);
    let reader = std::thread::Builder::new()
        .name("tar-reader".into())
        .spawn(move || {
            let _quiet = QuietGdal::new();
            if let Err(error) = send_members(tar::Archive::new(file), &sender) {
                let _ = sender.send(Err(unreadable(&path, error)));
            }
        })
        .map_err(|e| archive_error("cannot start reading the archive", e))?;
    Ok((receiver, reader))
}

/// Sends every file of `tar` with its data, in order; Ok at the end or when nobody listens.
fn send_members(
    mut tar: tar::Archive<VsiFile>,
    sender: &SyncSender<CatalogResult<(String, Vec<u8>)>>,
) -> std::io::Result<()> {
    for entry in tar.entries()? {
        let mut entry = entry?;
        let Some(name) = file_name(&entry)? else { continue };
        // The header's size is a hint only: a lying one must not decide an allocation.
        let mut data = Vec::with_capacity(entry.size().min(64 << 20) as usize);
        entry.read_to_end(&mut data)?;
        if data.len() as u64 != entry.size() {
            return Err(std::io::Error::other(format!("{name} is cut short")));
        }
        if sender.send(Ok((name, data))).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// A file entry's member name (GNU long names and POSIX pax paths followed by the crate); None
/// for folders, links and other entries.
fn file_name<R: Read>(entry: &tar::Entry<R>) -> std::io::Result<Option<String>> {
    if !entry.header().entry_type().is_file() {
        return Ok(None);
    }
    // `tar -C dir .` writes `./ROIs1158_spring/...`: the same member as without it.
    let name = entry.path()?.to_string_lossy().into_owned();
    Ok(Some(name.trim_start_matches("./").to_string()))
}

/// `archive` opened for the `tar` crate, through `/vsigzip/` when compressed.
fn open_tar(archive: &Path) -> CatalogResult<VsiFile> {
    let name = archive.to_string_lossy();
    let compressed = name.ends_with(".gz") || name.ends_with(".tgz");
    let path = if compressed { format!("/vsigzip/{name}") } else { name.into_owned() };
    VsiFile::open(Path::new(&path)).map_err(|e| archive_error("cannot open the archive", e))
}

/// An archive the `tar` crate cannot read, with its reason.
fn unreadable(archive: &Path, reason: impl std::fmt::Display) -> CatalogError {
    CatalogError::Archive(format!("not a readable tar archive ({reason} in {})", archive.display()))
}

/// [`CatalogError::Archive`]: what failed, and why.
fn archive_error(what: &str, reason: impl std::fmt::Display) -> CatalogError {
    CatalogError::Archive(format!("{what}: {reason}"))
}
