//! Scene resolution, in one place: from what a call names to a catalogued scene ([`scene`]) and to
//! one of its files under `s12_meta.data_root`, with its band names ([`file`] by what the call
//! names, [`file_of`] and [`optional_file_of`] for a scene already found; `Session::file`
//! remembers [`file`]'s answers per connection). Paths that would leave the data root are refused.

use super::arguments::fail;
use crate::catalog::read::{self, FileRow, SceneRef, SceneRow};
use crate::layout::is_archive;
use crate::raster::open::{archive_member, is_virtual, member_path};
use crate::raster::vsi;
use rusqlite::Connection;
use std::path::{Component, Path, PathBuf};

/// One file of one scene, ready to read.
#[derive(Debug, Clone)]
pub struct Target {
    pub modality: String,
    /// The real path, under the real data root (or where an allowed symlink leads).
    pub path: PathBuf,
    /// The path as the catalog gives it, relative to data_root: the only one messages show.
    pub relative: String,
    /// The real data root, to keep out of messages.
    root: PathBuf,
    pub band_names: Vec<String>,
}

/// The file of `modality` of `scene`; an error when the scene or the file is not catalogued.
/// The catalog is asked once (scene, file and data_root together): this runs on every call.
pub fn file(conn: &Connection, function: &str, scene: &SceneRef, modality: &str) -> rusqlite::Result<Target> {
    let Some(read::SceneFile { scene: row, file, data_root }) = read::scene_file(conn, scene, modality)? else {
        return Err(no_scene(function, scene));
    };
    match file {
        Some(file) => target_of(conn, function, &row, modality, file, data_root),
        None => Err(fail(
            function,
            format!("scene {} has no '{modality}' file ({})", row.name, modalities_on_disk(conn, &row)?),
        )),
    }
}

/// The file of `modality` of a scene already found; an error when the catalog has none.
pub fn file_of(conn: &Connection, function: &str, row: &SceneRow, modality: &str) -> rusqlite::Result<Target> {
    match optional_file_of(conn, function, row, modality)? {
        Some(target) => Ok(target),
        None => Err(fail(
            function,
            format!("scene {} has no '{modality}' file ({})", row.name, modalities_on_disk(conn, row)?),
        )),
    }
}

/// The scene `scene` names; an error naming `function` when the catalog has none.
pub fn scene(conn: &Connection, function: &str, scene: &SceneRef) -> rusqlite::Result<SceneRow> {
    read::scene(conn, scene)?.ok_or_else(|| no_scene(function, scene))
}

/// The error for a scene the catalog does not have.
fn no_scene(function: &str, scene: &SceneRef) -> rusqlite::Error {
    fail(function, format!("no scene {scene} in the catalog"))
}

/// The file of `modality` of a scene, None when the catalog has none.
pub fn optional_file_of(
    conn: &Connection,
    function: &str,
    scene: &SceneRow,
    modality: &str,
) -> rusqlite::Result<Option<Target>> {
    let Some(file) = read::file(conn, scene.scene_id, modality)? else { return Ok(None) };
    target_of(conn, function, scene, modality, file, read::data_root(conn)?).map(Some)
}

/// Whether the scene's file of `modality` is on disk as the catalog knows it (same size and
/// modification time), so that what the ingest kept of it (patches, a quicklook) still holds. True
/// when the catalog has no such file: nothing was kept of it.
pub fn as_catalogued(conn: &Connection, function: &str, scene: &SceneRow, modality: &str) -> rusqlite::Result<bool> {
    let Some(stamp) = read::file_stamp(conn, scene.scene_id, modality)? else { return Ok(true) };
    let target = optional_file_of(conn, function, scene, modality).ok().flatten();
    Ok(target.and_then(|t| vsi::stat(&t.path).ok()).map(|s| (s.bytes, s.mtime_ns)) == Some(stamp))
}

/// The target of a catalogued file, confined to `data_root`.
fn target_of(
    conn: &Connection,
    function: &str,
    scene: &SceneRow,
    modality: &str,
    file: FileRow,
    data_root: Option<String>,
) -> rusqlite::Result<Target> {
    let (root, path) = confined_path(function, &file.path, data_root)?;
    let band_names = band_names(conn, scene, modality, file.band_count)?;
    Ok(Target { modality: modality.to_string(), path, relative: file.path, root, band_names })
}

/// "has s1, s2" or "none on disk", for error messages.
pub fn modalities_on_disk(conn: &Connection, scene: &SceneRow) -> rusqlite::Result<String> {
    let present = read::modalities(conn, scene.scene_id)?;
    Ok(if present.is_empty() { "none on disk".to_string() } else { format!("has {}", present.join(", ")) })
}

/// Whether a user's band name `name` names the band `candidate` of a file: case aside, and S1's
/// `VV` / `VH` also name `VV_sigma0` / `VH_sigma0`.
pub fn names_band(name: &str, candidate: &str) -> bool {
    candidate.eq_ignore_ascii_case(name)
        || candidate.len() == name.len() + 7
            && candidate[..name.len()].eq_ignore_ascii_case(name)
            && candidate.ends_with("_sigma0")
}

/// The user's switches, from the environment because a catalog must not be able to set them.
const DATA_ROOT_VAR: &str = "SEN12LITE_DATA_ROOT";
const FOLLOW_SYMLINKS_VAR: &str = "SEN12LITE_FOLLOW_SYMLINKS";
const READ_ARCHIVES_VAR: &str = "SEN12LITE_READ_ARCHIVES";

/// The values of the switches a target is resolved under: a target resolved under others may
/// not be reused.
pub fn switches() -> [Option<std::ffi::OsString>; 4] {
    [DATA_ROOT_VAR, FOLLOW_SYMLINKS_VAR, READ_ARCHIVES_VAR, vsi::ALLOW_REMOTE_VAR].map(std::env::var_os)
}

/// The real `data_root` and the path GDAL opens for a catalogued path, which must be a plain
/// relative path (no root, `..` or `/vsi`): a plain file's real path,
/// or for a member of an archive (`{archive}/{member}`, only with $SEN12LITE_READ_ARCHIVES=1)
/// `/vsitar/` or `/vsizip/` over the archive's real path.
fn confined_path(function: &str, relative: &str, data_root: Option<String>) -> rusqlite::Result<(PathBuf, PathBuf)> {
    let escapes =
        Path::new(relative).components().any(|c| !matches!(c, Component::Normal(_))) || relative.contains("/vsi");
    if escapes {
        return Err(fail(function, format!("path '{relative}' is not a plain path inside data_root")));
    }
    let Some((archive, member)) = split_archive(relative) else {
        return confined_file(function, relative, data_root);
    };
    if !std::env::var(READ_ARCHIVES_VAR).is_ok_and(|v| v == "1") {
        return Err(fail(
            function,
            format!(
                "'{relative}' is inside an archive: set {READ_ARCHIVES_VAR}=1 to read it (random reads from a .tar.gz \
                 decompress from its start; unpack it for heavy use)"
            ),
        ));
    }
    let (root, real_archive) = confined_file(function, archive, data_root)?;
    Ok((root, member_path(&real_archive, member)))
}

/// `{archive}/{member}` -> (archive, member), when a folder of the path is an archive file name.
fn split_archive(relative: &str) -> Option<(&str, &str)> {
    let mut end = 0;
    for part in relative.split('/') {
        end += part.len();
        if is_archive(part) && end < relative.len() {
            return Some((&relative[..end], &relative[end + 1..]));
        }
        end += 1;
    }
    None
}

/// The real `data_root` (or $SEN12LITE_DATA_ROOT) and the real path of a plain relative path
/// under it; refuses, unless $SEN12LITE_FOLLOW_SYMLINKS=1, symlinks that lead out of the root.
/// Messages name the relative path only: a web user of a public instance must not learn the
/// server's folders.
fn confined_file(function: &str, relative: &str, data_root: Option<String>) -> rusqlite::Result<(PathBuf, PathBuf)> {
    let root = match std::env::var(DATA_ROOT_VAR) {
        Ok(root) if !root.is_empty() => root,
        _ => data_root.ok_or_else(|| fail(function, "s12_meta has no data_root: is this a sen12lite catalog?"))?,
    };
    if is_virtual(Path::new(&root)) {
        return remote_file(function, relative, &root);
    }
    let joined = Path::new(&root).join(relative);
    let Ok(real_root) = Path::new(&root).canonicalize() else {
        return Err(fail(function, "data_root is not on disk (see s12_debug() for where it points)"));
    };
    let Ok(real_path) = joined.canonicalize() else {
        return Err(fail(function, format!("file '{relative}' is not on disk under data_root")));
    };
    let may_leave = std::env::var(FOLLOW_SYMLINKS_VAR).is_ok_and(|v| v == "1");
    if !real_path.starts_with(&real_root) && !may_leave {
        return Err(fail(
            function,
            format!("path '{relative}' leads outside data_root (set {FOLLOW_SYMLINKS_VAR}=1 to allow)"),
        ));
    }
    Ok((real_root, real_path))
}

/// The root and GDAL path of a file under a data root on a network file system, when the operator
/// allows the root (`vsi::allowed_by_operator`). Messages name the file system only, not the server.
fn remote_file(function: &str, relative: &str, root: &str) -> rusqlite::Result<(PathBuf, PathBuf)> {
    let scheme = vsi::remote_scheme(root).map_err(|message| fail(function, message))?;
    if !vsi::allowed_by_operator(root, scheme) {
        return Err(fail(
            function,
            format!("data_root is on {scheme}: set {} to a prefix of it to read from there", vsi::ALLOW_REMOTE_VAR),
        ));
    }
    let root = root.trim_end_matches('/');
    Ok((PathBuf::from(root), PathBuf::from(format!("{root}/{relative}"))))
}

/// The dataset's band names of a modality, else the ones the ingest recorded, else b1..bn.
fn band_names(conn: &Connection, scene: &SceneRow, modality: &str, band_count: usize) -> rusqlite::Result<Vec<String>> {
    let known = scene.dataset.and_then(|dataset| dataset.band_names(modality));
    if let Some(names) = known.filter(|n| n.len() == band_count) {
        return Ok(names.iter().map(std::string::ToString::to_string).collect());
    }
    let names = read::band_names(conn, scene.scene_id, modality)?;
    Ok(if names.len() == band_count { names } else { (1..=band_count).map(|i| format!("b{i}")).collect() })
}

impl Target {
    /// Whether the real path resolved earlier (for a member of an archive, the archive's) still
    /// names a file that is not a symlink: one `lstat`, against the several of resolving it again.
    /// Object storage has no symlinks.
    pub fn still_in_place(&self) -> bool {
        let file = match archive_member(&self.path) {
            Some((archive, _)) => archive,
            // A member whose archive is not a local file (gone, or in object storage): resolved afresh.
            None if split_archive(&self.relative).is_some() => return false,
            None => self.path.clone(),
        };
        is_virtual(&file) || std::fs::symlink_metadata(&file).is_ok_and(|m| !m.file_type().is_symlink())
    }

    /// `message` (GDAL's or ours) with this file's real path shown relative to data_root and any
    /// other path under the root as `data_root/...`.
    pub fn relative_message(&self, message: &str) -> String {
        let root = self.root.display().to_string();
        message.replace(&self.path.display().to_string(), &self.relative).replace(&root, "data_root")
    }

    /// 1-based band numbers of a band list: names (`'B4,B3,B2'`), numbers (`'4'`, 4) or `'*'`.
    /// S1 'VV' / 'VH' also name 'VV_sigma0' / 'VH_sigma0'.
    pub fn bands(&self, function: &str, spec: &str) -> rusqlite::Result<Vec<usize>> {
        if spec.trim() == "*" {
            return Ok((1..=self.band_names.len()).collect());
        }
        spec.split(',').map(|part| self.band(function, part.trim())).collect()
    }

    pub fn band(&self, function: &str, name: &str) -> rusqlite::Result<usize> {
        if let Ok(number) = name.parse::<usize>() {
            if (1..=self.band_names.len()).contains(&number) {
                return Ok(number);
            }
            return Err(fail(
                function,
                format!("band {number} is not in {} (1..{})", self.modality, self.band_names.len()),
            ));
        }
        self.band_names.iter().position(|candidate| names_band(name, candidate)).map(|i| i + 1).ok_or_else(|| {
            let shown: String = name.chars().take(40).collect();
            fail(function, format!("band '{shown}' is not in {} ({})", self.modality, self.band_names.join(", ")))
        })
    }
}
