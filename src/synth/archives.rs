//! `synth --archives`: the tree as it is downloaded — SEN12MS (and SEN12MS-CR) as one `.tar.gz`
//! per season folder and kind (`ROIs1158_spring_s2.tar.gz` holding `ROIs1158_spring/s2_1/...`),
//! SEN12TP as one `.zip` per split (`sen12tp-train.zip` holding `train/...`). Written through GDAL's
//! `/vsigzip/` and `/vsizip/`, the tar format by the `tar` crate.

use super::SynthError;
use crate::layout::Dataset;
use std::collections::BTreeMap;
use std::ffi::CString;
use std::path::{Path, PathBuf};

/// Packs `files` (under `out`) into the dataset's archives and removes them; returns the archives.
pub fn pack(out: &Path, dataset: Dataset, files: &[PathBuf]) -> Result<Vec<PathBuf>, SynthError> {
    let mut groups: BTreeMap<String, Vec<(String, &PathBuf)>> = BTreeMap::new();
    for file in files {
        let member = file
            .strip_prefix(out)
            .map_err(|_| SynthError::Write(format!("{} is not under the tree", file.display())))?;
        let member = member.to_string_lossy().into_owned();
        groups.entry(archive_name(dataset, &member)).or_default().push((member, file));
    }
    let mut archives = Vec::new();
    for (name, members) in groups {
        let archive = out.join(&name);
        if name.ends_with(".zip") {
            write_zip(&archive, &members)?;
        } else {
            write_tar_gz(&archive, &members)?;
        }
        for (_, file) in &members {
            std::fs::remove_file(file)
                .map_err(|e| SynthError::Write(format!("cannot remove {}: {e}", file.display())))?;
        }
        archives.push(archive);
    }
    remove_empty_folders(out)?;
    Ok(archives)
}

/// The download a member belongs to.
fn archive_name(dataset: Dataset, member: &str) -> String {
    let mut parts = member.split('/');
    let (top, folder) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    match dataset {
        Dataset::Sen12tp => format!("sen12tp-{top}.zip"),
        // `s2_1` -> `s2`, `s2_cloudy_1` -> `s2_cloudy`; SEN12MS-CR's top folders already name the kind.
        Dataset::Sen12ms => format!("{top}_{}.tar.gz", folder.rsplit_once('_').map_or(folder, |(kind, _)| kind)),
        Dataset::Sen12msCr => format!("{top}.tar.gz"),
    }
}

/// A `.tar.gz` of `members` (name in the archive, file): ustar headers by the `tar` crate (a GNU
/// long-name entry before a name over 100 bytes), gzip by GDAL.
fn write_tar_gz(archive: &Path, members: &[(String, &PathBuf)]) -> Result<(), SynthError> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, file) in members {
        let data =
            std::fs::read(file).map_err(|e| SynthError::Write(format!("cannot read {}: {e}", file.display())))?;
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, name, data.as_slice())
            .map_err(|e| SynthError::Write(format!("cannot add {name} to {}: {e}", archive.display())))?;
    }
    let tar = tar.into_inner().map_err(|e| SynthError::Write(format!("cannot end {}: {e}", archive.display())))?;
    write_through_gdal(&format!("/vsigzip/{}", archive.display()), &tar)
}

/// A zip of `members`, each written through GDAL's `/vsizip/` (deflated).
fn write_zip(archive: &Path, members: &[(String, &PathBuf)]) -> Result<(), SynthError> {
    for (name, file) in members {
        let data =
            std::fs::read(file).map_err(|e| SynthError::Write(format!("cannot read {}: {e}", file.display())))?;
        write_through_gdal(&format!("/vsizip/{}/{name}", archive.display()), &data)?;
    }
    Ok(())
}

/// Writes `data` to a GDAL (virtual) file.
fn write_through_gdal(path: &str, data: &[u8]) -> Result<(), SynthError> {
    let fail = || SynthError::Write(format!("cannot write {path}: {}", crate::raster::open::last_gdal_error()));
    let c_path = CString::new(path).map_err(|_| SynthError::Write(format!("{path} has a NUL byte")))?;
    // SAFETY: NUL-terminated path and mode; `data` outlives the write; the handle is closed once.
    unsafe {
        let handle = gdal_sys::VSIFOpenL(c_path.as_ptr(), c"wb".as_ptr());
        if handle.is_null() {
            return Err(fail());
        }
        let written = gdal_sys::VSIFWriteL(data.as_ptr().cast(), 1, data.len(), handle);
        let closed = gdal_sys::VSIFCloseL(handle) == 0;
        if written != data.len() || !closed {
            return Err(fail());
        }
    }
    Ok(())
}

/// Removes the folders the packed files leave empty.
fn remove_empty_folders(dir: &Path) -> Result<(), SynthError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| SynthError::Write(format!("cannot list {}: {e}", dir.display())))?;
    for entry in entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()) {
        remove_empty_folders(&entry)?;
        // Only succeeds when empty, which is the point.
        let _ = std::fs::remove_dir(&entry);
    }
    Ok(())
}
