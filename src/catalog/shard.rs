//! `sen12lite ingest --shard K/N`: a deterministic 1/N of a tree's files, each scene's (SEN12TP) or
//! triplet's (SEN12MS) files together, ingested into a part that `sen12lite merge` joins with the
//! others. Which shard a scene falls in depends on its name alone, so every worker, listing the
//! tree on its own, agrees with the others without talking to them.

use super::discover::{Found, FoundFile, SceneKey};
use super::{meta_get, CatalogError, CatalogResult};
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// The `s12_meta` key of a part: `K/N`. A whole catalog has none.
pub const SHARD_KEY: &str = "shard";

/// Shard `index` of `count` (0-based: `--shard 0/4` to `--shard 3/4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which one, below `count`.
    pub index: u64,
    /// How many.
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let malformed = || format!("'{text}' is not K/N (shard K of N, 0-based: 0/4 to 3/4)");
        let (index, count) = text.split_once('/').ok_or_else(malformed)?;
        let (index, count): (u64, u64) =
            (index.trim().parse().map_err(|_| malformed())?, count.trim().parse().map_err(|_| malformed())?);
        if count == 0 || index >= count {
            return Err(format!(
                "'{text}': K must be below N (shards are 0-based: 0/{count} to {}/{count})",
                count.max(1) - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The whole tree: what a catalog without a `shard` key is.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Keeps the files of this shard's scenes. Discovery's problems stay in every part (merge
    /// keeps one of each), so that each part says what is wrong with the tree it was cut from.
    pub fn select(self, found: &mut Found) {
        found.files.retain(|file| self.holds(file));
    }

    /// Whether `file`'s scene is in this shard: FNV-1a of its group's name, modulo N.
    pub fn holds(self, file: &FoundFile) -> bool {
        self.holds_group(&group(&file.scene))
    }

    /// Whether this shard writes the metadata row of SEN12TP scene `scene_id`: shard 0 writes every
    /// scene of the metadata (the catalog has them all, on disk or not), the others only their own,
    /// so that a shard costs its files and not another pass over the 2319 scenes.
    pub fn writes_metadata_of(self, scene_id: i64) -> bool {
        self.index == 0 || self.holds_group(&scene_id.to_string())
    }

    fn holds_group(self, name: &str) -> bool {
        fnv1a(name.as_bytes()) % self.count == self.index
    }

    /// The shard a catalog says it is (`s12_meta.shard`); a catalog without one is whole.
    pub fn of_catalog(conn: &Connection) -> rusqlite::Result<Shard> {
        Ok(meta_get(conn, SHARD_KEY)?.and_then(|text| text.parse().ok()).unwrap_or(Shard::WHOLE))
    }
}

/// The name that keeps a group's files together: a SEN12TP scene id, a SEN12MS triplet.
fn group(scene: &SceneKey) -> String {
    match scene {
        SceneKey::Sen12tp { scene_id, .. } => scene_id.to_string(),
        SceneKey::Sen12ms(patch) | SceneKey::Sen12msCr(patch) => patch.triplet(),
    }
}

/// 64-bit FNV-1a: small, stable across versions and platforms (std's hasher is neither promised).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// A shard ingest into a catalog that holds other files would forget them (the ingest forgets
/// what it does not find): refused, and so is a part of another shard. A shard's part may become
/// whole by an ingest without `--shard`.
pub fn claim(conn: &Connection, db: &Path, shard: Option<Shard>) -> CatalogResult<()> {
    let fail = catalog_error(db);
    match shard {
        None => conn.execute("DELETE FROM s12_meta WHERE key = ?1", [SHARD_KEY]).map(|_| ()).map_err(fail),
        Some(shard) => {
            check_claim(conn, db, shard)?;
            super::meta_set(conn, SHARD_KEY, &shard.to_string()).map_err(fail)
        }
    }
}

/// Whether `shard` may be ingested into the catalog `db` (see `claim`), without writing.
pub(super) fn check_claim(conn: &Connection, db: &Path, shard: Shard) -> CatalogResult<()> {
    let fail = catalog_error(db);
    let recorded = Shard::of_catalog(conn).map_err(fail)?;
    let has_files = conn.query_row("SELECT EXISTS (SELECT 1 FROM files)", [], |r| r.get::<_, bool>(0)).map_err(fail)?;
    if recorded != shard && (has_files || recorded != Shard::WHOLE) {
        let what = if recorded == Shard::WHOLE { "a whole catalog".to_string() } else { format!("part {recorded}") };
        return Err(CatalogError::Ingest(format!(
            "{} is {what}: --shard {shard} would forget the files of the other shards; ingest each shard into its own --db",
            db.display()
        )));
    }
    Ok(())
}

/// An SQLite error of the catalog `db`, naming it.
pub(super) fn catalog_error(db: &Path) -> impl Fn(rusqlite::Error) -> CatalogError + Copy + '_ {
    move |e| CatalogError::Catalog(format!("catalog {}: {e}", db.display()))
}

/// A part being written: `part.db.partial`, renamed to `part.db` when the shard is whole, so that a
/// worker that dies leaves no file under the part's name (and the rerun goes on from the partial one).
pub fn partial_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_k_of_n_and_0_based() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!("4/4".parse::<Shard>().unwrap_err(), "'4/4': K must be below N (shards are 0-based: 0/4 to 3/4)");
        assert!("0/0".parse::<Shard>().is_err() && "a/4".parse::<Shard>().is_err() && "3".parse::<Shard>().is_err());
    }

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // From the FNV reference (isthe.com/chongo/tech/comp/fnv): "" and "a".
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
