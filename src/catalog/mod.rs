//! The SQLite catalog: schema, metadata keys, and the ingest that fills it.

// The ingest and the exports are the command's: the extension reads catalogs and never writes one.
#[cfg(feature = "bundled")]
pub mod archives;
#[cfg(feature = "bundled")]
pub mod discover;
pub mod error;
#[cfg(feature = "bundled")]
pub mod export;
#[cfg(feature = "bundled")]
pub mod ingest;
#[cfg(feature = "bundled")]
pub mod merge;
#[cfg(feature = "bundled")]
mod patch_grid;
#[cfg(feature = "bundled")]
mod quicklooks;
pub mod read;
#[cfg(feature = "bundled")]
mod seasons;
#[cfg(feature = "bundled")]
pub mod shard;
#[cfg(feature = "bundled")]
mod write;

pub use error::{CatalogError, CatalogResult};
use rusqlite::{Connection, OptionalExtension};
use std::path::Path;

/// The catalog's tables, views and indices (sql/schema.sql).
pub const SCHEMA: &str = include_str!("../../sql/schema.sql");
/// `s12_meta.schema_version` of catalogs this version writes and reads.
pub const SCHEMA_VERSION: &str = "4";
/// The authors' threshold: a pixel is cloudy when cloud_probability > 40.
pub const DEFAULT_CLOUD_THRESHOLD: f64 = 40.0;

/// Prepared statements a writing connection keeps: every statement of the ingest's writes.
const WRITE_STATEMENTS: usize = 128;

/// Opens (or creates) a catalog for writing: WAL, so readers go on while an ingest commits.
pub fn open_catalog(path: &Path) -> CatalogResult<Connection> {
    // On a read-only mount SQLite falls back to reading, and a WAL catalog then fails with
    // "unable to open database file" (it cannot create the WAL index): ask the file system.
    if let Err(e) = path.exists().then(|| std::fs::OpenOptions::new().write(true).open(path)).transpose() {
        let cause = cause(None, e.raw_os_error().unwrap_or(0));
        return Err(CatalogError::Catalog(format!("catalog {} not written: {cause} ({e})", path.display())));
    }
    let conn = Connection::open(path).map_err(|e| CatalogError::Catalog(format!("catalog {}: {e}", path.display())))?;
    let fail = |e: rusqlite::Error| CatalogError::Catalog(write_failure(&conn, path, &e));
    conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(fail)?;
    // Writing one file's rows takes about 30 statements: with rusqlite's 16 cached, each one
    // pushed out the next one needed, and every file's rows were parsed anew.
    conn.set_prepared_statement_cache_capacity(WRITE_STATEMENTS);
    conn.pragma_update(None, "journal_mode", "WAL").map_err(fail)?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(fail)?;
    if let Some(version) = meta_get(&conn, "schema_version").ok().flatten() {
        let older = |v: &str| ["1", "2", "3"][..].iter().position(|known| *known == v);
        match older(&version) {
            Some(step) => {
                let migrations: [fn(&Connection) -> rusqlite::Result<()>; 3] =
                    [migrate_from_1, migrate_from_2, migrate_from_3];
                for migrate in &migrations[step..] {
                    migrate(&conn).map_err(fail)?;
                }
            }
            None if version == SCHEMA_VERSION => {}
            None => {
                return Err(CatalogError::Catalog(format!(
                    "catalog {}: schema_version is {version}, this sen12lite writes {SCHEMA_VERSION}; \
                 ingest into a new --db",
                    path.display()
                )));
            }
        }
    }
    conn.execute_batch(SCHEMA).map_err(fail)?;
    meta_set(&conn, "schema_version", SCHEMA_VERSION).map_err(fail)?;
    Ok(conn)
}

/// Version 3 had no patch grid: `files.patch_threshold` is added empty (the tables are new), and
/// the next ingest counts the grid of every s1, s2 and land-cover file (see `files_to_scan`).
fn migrate_from_3(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("ALTER TABLE files ADD COLUMN patch_threshold REAL")
}

/// Version 2 had no `release_season`: it is the season word of a SEN12MS triplet's name
/// (`ROIs1970_fall_1_p30`: the release `ROIs1970_fall`), `fall` written `autumn` as in `season`.
fn migrate_from_2(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "ALTER TABLE scenes ADD COLUMN release_season TEXT
           CHECK (release_season IN ('spring', 'summer', 'autumn', 'winter'));
         UPDATE scenes SET release_season = CASE substr(name, 10, instr(substr(name, 10), '_') - 1)
             WHEN 'fall' THEN 'autumn' ELSE substr(name, 10, instr(substr(name, 10), '_') - 1) END
           WHERE dataset IN ('sen12ms', 'sen12ms-cr');",
    )
}

/// Version 1 had no quantile sketches and no WKB footprints. The sketch column is added empty,
/// and the next ingest rescans every file whose band rows lack one (see `files_to_scan`), so a
/// re-ingest completes the catalog; `geom` is filled from the GeoJSON footprints here.
fn migrate_from_1(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("ALTER TABLE band_stats ADD COLUMN sketch BLOB; ALTER TABLE scenes ADD COLUMN geom BLOB")?;
    let mut rings = Vec::new();
    read::for_each_footprint_text(conn, |scene_id, text| {
        // A footprint this version cannot parse stays without geom, as it would have stayed unread.
        if let Ok(ring) = crate::geometry::parse::polygon_ring(text) {
            rings.push((scene_id, crate::geometry::wkb::polygon(&ring)));
        }
        Ok(())
    })?;
    let mut update = conn.prepare("UPDATE scenes SET geom = ?2 WHERE scene_id = ?1")?;
    for (scene_id, wkb) in rings {
        update.execute(rusqlite::params![scene_id, wkb])?;
    }
    Ok(())
}

/// Linux's errno values for the causes a user can act on.
const EIO: i32 = 5;
const EACCES: i32 = 13;
const ENOSPC: i32 = 28;
const EROFS: i32 = 30;
const EDQUOT: i32 = 122;

/// A failed catalog write in words a user can act on: the cause, from SQLite's code and the
/// operating system's errno (SQLite reports a full disk met while sizing the WAL index as an I/O
/// error), then the catalog's path and SQLite's and the system's own messages.
pub fn write_failure(conn: &Connection, db: &Path, error: &rusqlite::Error) -> String {
    // SAFETY: a getter on an open connection, called on the thread that used it.
    let errno = unsafe { rusqlite::ffi::sqlite3_system_errno(conn.handle()) };
    let cause = cause(error.sqlite_error_code(), errno);
    let system = if errno != 0 { format!("; {}", std::io::Error::from_raw_os_error(errno)) } else { String::new() };
    format!("catalog {} not written: {cause} ({error}{system})", db.display())
}

/// The cause of a failed write, from SQLite's code (if any) and the system's errno (0 if none).
fn cause(code: Option<rusqlite::ErrorCode>, errno: i32) -> &'static str {
    use rusqlite::ErrorCode;
    match (code, errno) {
        (Some(ErrorCode::DiskFull), _) | (_, ENOSPC) => "the disk is full",
        (_, EDQUOT) => "the disk quota is exceeded",
        (Some(ErrorCode::ReadOnly), _) | (_, EROFS | EACCES) => {
            "it is read-only (a read-only file system, or no write permission)"
        }
        (Some(ErrorCode::SystemIoFailure), _) | (_, EIO) => "an I/O error",
        (Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked), _) => "another writer holds it",
        (Some(ErrorCode::CannotOpen), _) => "it cannot be opened",
        _ => "a failed write",
    }
}

/// The value of `key` in `s12_meta`, None when unset.
pub fn meta_get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM s12_meta WHERE key = ?1", [key], |r| r.get(0)).optional()
}

/// Sets `key` in `s12_meta`.
pub fn meta_set(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO s12_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
    .map(|_| ())
}

/// The cloud threshold in force: `s12_meta.cloud_threshold`, else the authors' 40 %.
pub fn cloud_threshold(conn: &Connection) -> f64 {
    meta_get(conn, "cloud_threshold").ok().flatten().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CLOUD_THRESHOLD)
}
