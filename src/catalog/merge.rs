//! `sen12lite merge OUT.db PART.db…`: the parts of a sharded ingest (`ingest --shard K/N`) joined
//! into the catalog one ingest of the whole tree gives. Every part is checked first (one tree, one
//! version, one cloud threshold, every shard once); the catalog is built beside OUT and renamed
//! over it when whole, so OUT is the old catalog or the new one, never a mix.

use super::shard::{partial_path, Shard, SHARD_KEY};
use super::{meta_get, open_catalog, CatalogError, CatalogResult, SCHEMA_VERSION};
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The tables whose rows belong to one scene's files: a part holds all of a scene's or none.
const SCENE_TABLES: [&str; 7] =
    ["files", "band_stats", "landcover", "patch_cells", "patches", "patch_grids", "quicklooks"];

/// What a merge joined.
#[derive(Debug, PartialEq)]
pub struct MergeReport {
    /// Parts read.
    pub parts: usize,
    /// Scenes, files and ingest errors of the merged catalog.
    pub scenes: i64,
    /// Files catalogued.
    pub files: i64,
    /// Rows of `ingest_errors` (each problem once, however many parts recorded it).
    pub errors: i64,
}

/// What a part says of itself.
struct Part {
    path: PathBuf,
    data_root: Option<String>,
    loader_version: Option<String>,
    cloud_threshold: Option<String>,
    shard: Shard,
    datasets: Vec<String>,
}

/// Merges `parts` into `out` (created, or replaced whole when it is a catalog of the same tree).
pub fn merge(out: &Path, parts: &[PathBuf]) -> CatalogResult<MergeReport> {
    let read: Vec<Part> = parts.iter().map(|path| read_part(path)).collect::<CatalogResult<_>>()?;
    check_together(&read)?;
    check_out(out, &read[0])?;
    let building = merging_path(out);
    remove_if_there(&building)?;
    let built = build(&building, &read);
    if let Err(error) = built {
        let _ = remove_if_there(&building);
        return Err(error);
    }
    std::fs::rename(&building, out)
        .map_err(|e| refuse(format!("cannot rename {} to {}: {e}", building.display(), out.display())))?;
    let conn = Connection::open_with_flags(out, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| sqlite(out, e))?;
    let count = |table: &str| conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0));
    let counted = (|| Ok::<_, rusqlite::Error>((count("scenes")?, count("files")?, count("ingest_errors")?)))();
    let (scenes, files, errors) = counted.map_err(|e| sqlite(out, e))?;
    Ok(MergeReport { parts: read.len(), scenes, files, errors })
}

fn refuse(message: String) -> CatalogError {
    CatalogError::Catalog(format!("merge: {message}"))
}

fn sqlite(path: &Path, error: rusqlite::Error) -> CatalogError {
    refuse(format!("{}: {error}", path.display()))
}

/// Where the merged catalog is built, beside `out`.
fn merging_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".merging");
    PathBuf::from(name)
}

fn remove_if_there(path: &Path) -> CatalogResult<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(refuse(format!("cannot remove {}: {e}", path.display())))
        }
        _ => Ok(()),
    }
}

/// Opens a part read-only and reads what the checks compare; refuses what is not a whole part of
/// this version.
fn read_part(path: &Path) -> CatalogResult<Part> {
    let shown = path.display();
    if path.to_string_lossy().ends_with(".partial") || partial_path(path).exists() {
        return Err(refuse(format!(
            "part {shown} is still being written, or was left by a worker that stopped: ingest its shard again"
        )));
    }
    if !path.is_file() {
        return Err(refuse(format!("part {shown}: no such file")));
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| sqlite(path, e))?;
    let not_a_catalog = |e: rusqlite::Error| refuse(format!("part {shown} is not a sen12lite catalog ({e})"));
    let meta = |key: &str| meta_get(&conn, key).map_err(not_a_catalog);
    match meta("schema_version")? {
        Some(version) if version == SCHEMA_VERSION => {}
        version => {
            return Err(refuse(format!(
                "part {shown} has schema version {}, this sen12lite writes {SCHEMA_VERSION}: ingest its shard again",
                version.as_deref().unwrap_or("(none)")
            )))
        }
    }
    let mut statement = conn.prepare("SELECT DISTINCT dataset FROM scenes ORDER BY 1").map_err(not_a_catalog)?;
    let datasets = statement.query_map([], |r| r.get(0)).and_then(Iterator::collect).map_err(not_a_catalog)?;
    Ok(Part {
        path: path.to_path_buf(),
        data_root: meta("data_root")?,
        loader_version: meta("loader_version")?,
        cloud_threshold: meta("cloud_threshold")?,
        shard: Shard::of_catalog(&conn).map_err(not_a_catalog)?,
        datasets,
    })
}

/// The parts are of one tree, written by this version with one cloud threshold, and are the N
/// shards of one sharding, each once.
fn check_together(parts: &[Part]) -> CatalogResult<()> {
    let first = parts.first().ok_or_else(|| refuse("no part to merge".into()))?;
    let version = env!("CARGO_PKG_VERSION");
    for part in parts {
        let shown = part.path.display();
        if part.loader_version.as_deref() != Some(version) {
            return Err(refuse(format!(
                "part {shown} was written by sen12lite {}, this is {version}: ingest its shard again",
                part.loader_version.as_deref().unwrap_or("(unknown)")
            )));
        }
        let differs = |what: &str, this: &Option<String>, that: &Option<String>| {
            (this != that).then(|| {
                let said = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
                refuse(format!(
                    "part {shown} has {what} {}, part {} has {}: parts of different catalogs",
                    said(this),
                    first.path.display(),
                    said(that)
                ))
            })
        };
        if let Some(error) = differs("data_root", &part.data_root, &first.data_root)
            .or_else(|| differs("cloud_threshold", &part.cloud_threshold, &first.cloud_threshold))
        {
            return Err(error);
        }
    }
    check_kinds(parts)?;
    check_shards(parts)
}

/// The parts hold one dataset kind (a part of a SEN12MS shard without a triplet holds none).
fn check_kinds(parts: &[Part]) -> CatalogResult<()> {
    let mut holding = parts.iter().filter(|part| !part.datasets.is_empty());
    let Some(first) = holding.next() else { return Ok(()) };
    match holding.find(|part| part.datasets != first.datasets) {
        Some(other) => Err(refuse(format!(
            "part {} is a catalog of {}, part {} of {}",
            first.path.display(),
            first.datasets.join(", "),
            other.path.display(),
            other.datasets.join(", ")
        ))),
        None => Ok(()),
    }
}

/// Every shard of one N, once.
fn check_shards(parts: &[Part]) -> CatalogResult<()> {
    let count = parts[0].shard.count;
    let mut seen: BTreeMap<u64, &Path> = BTreeMap::new();
    for part in parts {
        if part.shard.count != count {
            return Err(refuse(format!(
                "part {} is shard {}, part {} is shard {}: parts of different shardings",
                part.path.display(),
                part.shard,
                parts[0].path.display(),
                parts[0].shard
            )));
        }
        if let Some(other) = seen.insert(part.shard.index, &part.path) {
            return Err(refuse(format!(
                "parts {} and {} are both shard {}",
                other.display(),
                part.path.display(),
                part.shard
            )));
        }
    }
    let missing: Vec<String> = (0..count).filter(|k| !seen.contains_key(k)).map(|k| format!("{k}/{count}")).collect();
    if !missing.is_empty() {
        return Err(refuse(format!("shard {} missing: give every part of the {count}", missing.join(", "))));
    }
    Ok(())
}

/// OUT, when it exists, must be a catalog of the same tree: merging replaces it.
fn check_out(out: &Path, first: &Part) -> CatalogResult<()> {
    if !out.exists() {
        return Ok(());
    }
    let shown = out.display();
    let mut wal = out.as_os_str().to_owned();
    wal.push("-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(refuse(format!("{shown} is open in WAL mode (its -wal file is there): close its readers first")));
    }
    let conn = Connection::open_with_flags(out, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| sqlite(out, e))?;
    let root = meta_get(&conn, "data_root")
        .map_err(|e| refuse(format!("{shown} exists and is not a sen12lite catalog ({e}): merge into a new file")))?;
    if root != first.data_root {
        return Err(refuse(format!(
            "{shown} exists and indexes {}, not {}: merge into a new file",
            root.unwrap_or_else(|| "(nothing)".into()),
            first.data_root.as_deref().unwrap_or("(nothing)")
        )));
    }
    Ok(())
}

/// The merged catalog at `path`: the schema, then each part's rows, then the catalog's own keys.
fn build(path: &Path, parts: &[Part]) -> CatalogResult<()> {
    let conn = open_catalog(path)?;
    let fail = |e: rusqlite::Error| sqlite(path, e);
    // Nobody reads this file until it is renamed: no journal to keep, nothing to sync on the way.
    conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF").map_err(fail)?;
    for part in parts {
        add_part(&conn, part).map_err(|e| sqlite(&part.path, e))?;
    }
    conn.execute("DELETE FROM s12_meta WHERE key = ?1", [SHARD_KEY]).map_err(fail)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0)).map_err(fail)?;
    debug_assert_eq!(mode, "delete");
    Ok(())
}

/// One part's rows: its scenes (a scene on disk in this part replaces the metadata-only row an
/// earlier part gave it), R*Tree, its files' rows, its problems not yet recorded, its keys.
fn add_part(conn: &Connection, part: &Part) -> rusqlite::Result<()> {
    conn.execute("ATTACH DATABASE ?1 AS part", [part.path.to_string_lossy()])?;
    let added = (|| {
        conn.execute_batch("BEGIN")?;
        let scene_columns = columns(conn, "scenes")?;
        let updates: Vec<String> = scene_columns.iter().map(|c| format!("{c} = excluded.{c}")).collect();
        let list = scene_columns.join(", ");
        conn.execute_batch(&format!(
            "INSERT INTO main.scenes ({list}) SELECT {list} FROM part.scenes WHERE true
               ON CONFLICT (scene_id) DO UPDATE SET {} WHERE excluded.has_files;
             INSERT OR REPLACE INTO main.scenes_rtree SELECT * FROM part.scenes_rtree;",
            updates.join(", ")
        ))?;
        for table in SCENE_TABLES {
            let list = columns(conn, table)?.join(", ");
            conn.execute_batch(&format!("INSERT INTO main.{table} ({list}) SELECT {list} FROM part.{table}"))?;
        }
        conn.execute_batch(&format!(
            "INSERT INTO main.ingest_errors (path, stage, message, at)
               SELECT path, stage, message, min(at) FROM part.ingest_errors p
               WHERE NOT EXISTS (SELECT 1 FROM main.ingest_errors m
                                 WHERE m.path = p.path AND m.stage = p.stage AND m.message = p.message)
               GROUP BY path, stage, message;
             INSERT OR IGNORE INTO main.s12_meta (key, value)
               SELECT key, value FROM part.s12_meta WHERE key NOT IN ('schema_version', '{SHARD_KEY}');
             UPDATE main.s12_meta SET value = max(value, (SELECT value FROM part.s12_meta WHERE key = 'last_ingest'))
               WHERE key = 'last_ingest';
             COMMIT;"
        ))
    })();
    if added.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    conn.execute_batch("DETACH DATABASE part")?;
    added
}

/// The columns of `table` in the merged catalog, by name: a part migrated from an older version
/// has them in another order.
fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}', 'main')"))?;
    let names = statement.query_map([], |r| r.get(0))?.collect();
    names
}
