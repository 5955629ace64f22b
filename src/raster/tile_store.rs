//! Decompressed tiles kept for the windows that read them again, least recently used dropped
//! first, within a byte limit each caller gives: one store for the process, like GDAL's block
//! cache (whose place it takes for the files read without GDAL), so that many connections (a
//! Datasette's) together keep no more than one limit. A static is never dropped: nothing runs at
//! exit.

use super::cache::lock;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// The process's tile store.
pub fn shared() -> &'static TileStore {
    static STORE: OnceLock<TileStore> = OnceLock::new();
    STORE.get_or_init(TileStore::default)
}

/// A tile: the file it is of (a number [`super::tiles::RawTiles`] takes each time a file is opened)
/// and its column and row in the file's tile grid.
pub type TileKey = (u64, usize, usize);

/// A decompressed tile, shared by the windows that read it.
pub type Tile = Arc<Vec<u8>>;

/// The tiles, shared by threads: each takes the lock only to look one up or keep one.
#[derive(Default)]
pub struct TileStore {
    inner: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    tiles: HashMap<TileKey, (Tile, u64)>,
    /// The keys by their last use (a counter), oldest first.
    by_use: BTreeMap<u64, TileKey>,
    uses: u64,
    bytes: usize,
}

impl TileStore {
    /// The tile, now the most recently used.
    pub fn get(&self, key: TileKey) -> Option<Tile> {
        let mut held = lock(&self.inner);
        let Held { tiles, by_use, uses, .. } = &mut *held;
        let (tile, used) = tiles.get_mut(&key)?;
        by_use.remove(used);
        *uses += 1;
        *used = *uses;
        by_use.insert(*uses, key);
        Some(tile.clone())
    }

    /// Keeps `tile`, first dropping the least recently used tiles until all fit in `limit` bytes;
    /// a tile larger than `limit` is not kept.
    pub fn insert(&self, key: TileKey, tile: Tile, limit: usize) {
        if tile.len() > limit {
            return;
        }
        let mut held = lock(&self.inner);
        held.remove(key);
        while held.bytes + tile.len() > limit {
            let Some((_, oldest)) = held.by_use.pop_first() else { return };
            held.remove(oldest);
        }
        held.uses += 1;
        held.bytes += tile.len();
        let used = held.uses;
        held.by_use.insert(used, key);
        held.tiles.insert(key, (tile, used));
    }

    /// Drops the tiles of one opening of a file (`serial`), when it is closed: as GDAL frees a
    /// dataset's blocks, so a host that opens and closes connections keeps no more.
    pub fn forget_file(&self, serial: u64) {
        let mut held = lock(&self.inner);
        let keys: Vec<TileKey> = held.tiles.keys().filter(|key| key.0 == serial).copied().collect();
        for key in keys {
            held.remove(key);
        }
    }

    /// Bytes of the tiles kept now.
    pub fn bytes(&self) -> usize {
        lock(&self.inner).bytes
    }

    /// Tiles kept now.
    pub fn count(&self) -> usize {
        lock(&self.inner).tiles.len()
    }
}

impl Held {
    fn remove(&mut self, key: TileKey) {
        if let Some((tile, used)) = self.tiles.remove(&key) {
            self.by_use.remove(&used);
            self.bytes -= tile.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(bytes: usize) -> Tile {
        Arc::new(vec![0; bytes])
    }

    #[test]
    fn the_least_recently_used_tile_goes_first() {
        let store = TileStore::default();
        store.insert((1, 0, 0), tile(10), 30);
        store.insert((1, 1, 0), tile(10), 30);
        store.insert((1, 2, 0), tile(10), 30);
        assert!(store.get((1, 0, 0)).is_some());
        store.insert((2, 0, 0), tile(10), 30);
        assert!(store.get((1, 1, 0)).is_none(), "the oldest unused tile was dropped");
        assert!(store.get((1, 0, 0)).is_some() && store.get((1, 2, 0)).is_some());
        assert_eq!(store.bytes(), 30);
    }

    #[test]
    fn a_smaller_limit_drops_until_the_tile_fits_and_a_tile_too_large_is_not_kept() {
        let store = TileStore::default();
        for x in 0..4 {
            store.insert((1, x, 0), tile(10), 100);
        }
        store.insert((1, 9, 9), tile(10), 20);
        assert_eq!(store.bytes(), 20);
        assert!(store.get((1, 3, 0)).is_some() && store.get((1, 9, 9)).is_some());
        store.insert((1, 8, 8), tile(50), 40);
        assert_eq!(store.bytes(), 20, "nothing dropped for a tile that cannot be kept");
        assert!(store.get((1, 8, 8)).is_none());
    }

    #[test]
    fn a_file_forgotten_leaves_the_other_files_tiles() {
        let store = TileStore::default();
        for (file, x) in [(1, 0), (2, 0), (1, 1), (3, 0)] {
            store.insert((file, x, 0), tile(10), 100);
        }
        store.forget_file(1);
        assert_eq!((store.count(), store.bytes()), (2, 20));
        assert!(store.get((2, 0, 0)).is_some() && store.get((3, 0, 0)).is_some());
        store.insert((4, 0, 0), tile(80), 100);
        assert_eq!(store.bytes(), 100, "what the forgotten file held is free");
    }

    #[test]
    fn a_tile_kept_again_replaces_the_first() {
        let store = TileStore::default();
        store.insert((1, 0, 0), tile(10), 100);
        store.insert((1, 0, 0), tile(20), 100);
        assert_eq!(store.bytes(), 20);
        assert_eq!(store.get((1, 0, 0)).map(|t| t.len()), Some(20));
    }
}
