//! Windows of pixel-interleaved DEFLATE GeoTIFFs read without GDAL's block cache: each tile is
//! read from the file, decompressed by libdeflate into one buffer, and the window's bands are
//! copied from it straight into their place. GDAL decompresses the same tile, splits it into one
//! cached block per band, then copies those blocks into the window: two more passes over the
//! values and a cache lock each (docs/benchmarks.md, 2026-12-06, has the figures).
//!
//! Only a file whose bytes are the values as GDAL returns them is read so: DEFLATE without a
//! predictor, pixel-interleaved (or one band), whole bytes per value, little-endian. Any other
//! file, a missing (sparse) tile, or a tile that does not decompress to its size or fails its
//! checksum is left to GDAL (`None`/`Ok(false)`), which then gives its values or its own error:
//! libtiff refuses a tile whose checksum fails in some files (a 256 px SEN12MS patch) and reads
//! it unchecked in others (the one partial tile of a 240 px raster), and the catalog follows
//! (tests/python/test_hostile_datasets.py).

use super::error::{RasterError, Result};
use super::open::MAX_BLOCK_BYTES;
use super::strips::{read_piece_into_strips, ReadGuard, Window, MIN_STRIP_ROWS, STRIP_BYTES};
use super::tile_store::{self, TileKey};
use super::vsi::VsiFile;
use gdal::raster::{GdalDataType, GdalType};
use gdal::{Dataset, Metadata};
use std::mem::MaybeUninit;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The tiles of one open file.
pub struct RawTiles {
    file: VsiFile,
    /// The last tile's stored bytes: one allocation reused.
    compressed: Vec<u8>,
    decompressor: Decompressor,
    /// Tells this opening of the file from any other in the tile store.
    serial: u64,
    height: usize,
    /// Block width and height (tiles; or strips, whose last one may be shorter).
    block: (usize, usize),
    bands: usize,
    dtype: GdalDataType,
}

/// Types read as they are stored: those `npy::write_values` and the ingest's strips keep as they
/// are (others they convert, through GDAL).
const STORED_AS_READ: [GdalDataType; 7] = [
    GdalDataType::UInt8,
    GdalDataType::UInt16,
    GdalDataType::Int16,
    GdalDataType::UInt32,
    GdalDataType::Int32,
    GdalDataType::Float32,
    GdalDataType::Float64,
];

impl RawTiles {
    /// The tiles of `dataset` (opened from `path`), or None when GDAL must read the file.
    pub fn of(dataset: &Dataset, path: &Path) -> Option<RawTiles> {
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        let structure = |key| dataset.metadata_item(key, "IMAGE_STRUCTURE");
        let bands = dataset.raster_count();
        let first = dataset.rasterband(1).ok()?;
        let (dtype, block) = (first.band_type(), first.block_size());
        let plain = dataset.driver().short_name() == "GTiff"
            && structure("COMPRESSION").as_deref() == Some("DEFLATE")
            && structure("PREDICTOR").is_none_or(|p| p == "1")
            && (bands == 1 || structure("INTERLEAVE").as_deref() == Some("PIXEL"))
            && STORED_AS_READ.contains(&dtype)
            && (1..=bands).all(|b| {
                dataset.rasterband(b).is_ok_and(|band| {
                    band.band_type() == dtype
                        && band.block_size() == block
                        && band.metadata_item("NBITS", "IMAGE_STRUCTURE").is_none()
                })
            });
        // A tile over MAX_BLOCK_BYTES (about 19 times a 256 px tile of 13 bands of 16 bits) is
        // left to GDAL rather than held in this reader's buffers and store: open_geotiff has
        // already refused one larger than its raster, which only a damaged header claims.
        let tile_bytes = block.0.checked_mul(block.1)?.checked_mul(bands)?.checked_mul(dtype.bytes() as usize)?;
        if !plain || tile_bytes == 0 || tile_bytes > MAX_BLOCK_BYTES {
            return None;
        }
        let mut file = VsiFile::open(path).ok()?;
        // "II": little-endian, classic TIFF (42) or BigTIFF (43).
        let header = file.read_at(0, 4)?;
        if header != b"II*\0" && header != b"II+\0" {
            return None;
        }
        Some(RawTiles {
            file,
            compressed: Vec::new(),
            decompressor: Decompressor::new()?,
            serial: SERIAL.fetch_add(1, Ordering::Relaxed),
            height: dataset.raster_size().1,
            block,
            bands,
            dtype,
        })
    }

    /// The type of every band.
    pub fn dtype(&self) -> GdalDataType {
        self.dtype
    }

    fn value_bytes(&self) -> usize {
        self.dtype.bytes() as usize
    }

    /// Writes `bands` (1-based) of `window` into `out`, band after band, row-major, as
    /// [`super::npy::write_values`] does; tiles come from the process's tile store or are
    /// decompressed and kept there within `limit` bytes. Ok(false) when a tile is left to GDAL
    /// (`out` then holds anything). `guard` is polled before each tile (the caller charges the
    /// window's values).
    pub fn write_window(
        &mut self,
        dataset: &Dataset,
        limit: usize,
        bands: &[usize],
        window: Window,
        guard: &mut dyn ReadGuard,
        out: &mut [MaybeUninit<u8>],
    ) -> Result<bool> {
        let plane = window.pixels() * self.value_bytes();
        if out.len() != plane * bands.len() {
            return Err(RasterError::Internal("a .npy buffer of the wrong size".into()));
        }
        if plane == 0 || !self.has_bands(bands) {
            return Ok(false);
        }
        let mut planes: Vec<&mut [MaybeUninit<u8>]> = out.chunks_mut(plane).collect();
        let store = tile_store::shared();
        for (tx, ty) in self.tiles_over(window) {
            guard.poll()?;
            let key: TileKey = (self.serial, tx, ty);
            let tile = match store.get(key) {
                Some(tile) => tile,
                None => {
                    let mut tile = Vec::new();
                    if !self.decompress(dataset, (tx, ty), &mut tile) {
                        return Ok(false);
                    }
                    let tile = Arc::new(tile);
                    store.insert(key, tile.clone(), limit);
                    tile
                }
            };
            self.part(&tile, (tx, ty)).copy(self.value_bytes(), bands, window, &mut planes);
        }
        Ok(true)
    }

    /// [`super::strips::for_each_strip_in`] for the ingest, unguarded: strips of whole tile rows
    /// (at least `MIN_STRIP_ROWS` rows), each tile decompressed once, then handed to `visit` a
    /// few rows at a time (at most `VISIT_BYTES` of all bands): the tiles are copied into those
    /// rows' strips, which every measure then reads from the core's cache rather than from
    /// memory. A tile this cannot read is read by GDAL into its place (a missing tile then gives
    /// nodata, a damaged one GDAL's error). Ok(false), before anything is read, when `T` is not
    /// the file's type, the bands are not the file's, or a row of tiles would be larger than
    /// `STRIP_BYTES` (a wider file is read by GDAL in narrower strips). `tiles` holds the
    /// decompressed tiles of a strip: buffers kept from file to file, whose pages are then not
    /// new to the process for each one (30 % of the SEN12TP ingest's page faults).
    pub fn for_each_strip<T: GdalType + Copy + Default>(
        &mut self,
        dataset: &Dataset,
        bands: &[usize],
        window: Window,
        strips: &mut Vec<Vec<T>>,
        tiles: &mut Vec<Vec<u8>>,
        mut visit: impl FnMut(&[Vec<T>], usize),
    ) -> Result<bool> {
        let rows_per_strip = self.block.1 * MIN_STRIP_ROWS.div_ceil(self.block.1);
        let row_bytes = window.width.saturating_mul(bands.len() * self.value_bytes());
        if T::datatype() != self.dtype
            || !self.has_bands(bands)
            || row_bytes.saturating_mul(rows_per_strip) > STRIP_BYTES
            || window.pixels() == 0
        {
            return Ok(false);
        }
        let rows_per_visit = (VISIT_BYTES / row_bytes).clamp(1, rows_per_strip);
        strips.resize_with(bands.len(), Vec::new);
        strips.truncate(bands.len());
        // Every value a visit sees is written first: the buffers' old values are never read.
        strips.iter_mut().for_each(|buffer| buffer.resize(window.width * rows_per_visit, T::default()));
        let end = window.row + window.height;
        for top in (window.row..end).step_by(rows_per_strip) {
            let strip = Window { row: top, height: rows_per_strip.min(end - top), ..window };
            let places: Vec<(usize, usize)> = self.tiles_over(strip).collect();
            // Grown, never shrunk: a buffer dropped is one the next file allocates anew.
            if tiles.len() < places.len() {
                tiles.resize_with(places.len(), Vec::new);
            }
            let read: Vec<bool> =
                places.iter().zip(tiles.iter_mut()).map(|(&at, tile)| self.decompress(dataset, at, tile)).collect();
            let strip_end = strip.row + strip.height;
            for visit_top in (strip.row..strip_end).step_by(rows_per_visit) {
                let rows = Window { row: visit_top, height: rows_per_visit.min(strip_end - visit_top), ..window };
                let mut planes: Vec<&mut [MaybeUninit<u8>]> = strips.iter_mut().map(|s| as_value_bytes(s)).collect();
                for ((&at, tile), _) in places.iter().zip(tiles.iter()).zip(&read).filter(|(_, read)| **read) {
                    self.part(tile, at).copy(self.value_bytes(), bands, rows, &mut planes);
                }
                // The tiles left to GDAL, after the others: each fills its own part of the strips.
                for (&at, _) in places.iter().zip(&read).filter(|(_, read)| !**read) {
                    let piece = overlap(self.origin(at), self.block, rows);
                    if piece.pixels() > 0 {
                        read_piece_into_strips(dataset, bands, piece, rows, strips)?;
                    }
                }
                visit(strips, rows.pixels());
            }
        }
        Ok(true)
    }

    fn has_bands(&self, bands: &[usize]) -> bool {
        bands.iter().all(|&b| (1..=self.bands).contains(&b))
    }

    /// The tiles `window` touches, (column, row) in the tile grid, in raster order.
    fn tiles_over(&self, window: Window) -> impl Iterator<Item = (usize, usize)> {
        let (width, height) = self.block;
        let columns = window.col / width..=(window.col + window.width - 1) / width;
        (window.row / height..=(window.row + window.height - 1) / height)
            .flat_map(move |ty| columns.clone().map(move |tx| (tx, ty)))
    }

    /// The first column and row of tile (`tx`, `ty`) in the raster.
    fn origin(&self, (tx, ty): (usize, usize)) -> (usize, usize) {
        (tx * self.block.0, ty * self.block.1)
    }

    fn part<'a>(&self, tile: &'a [u8], at: (usize, usize)) -> Part<'a> {
        Part { tile, origin: self.origin(at), block: self.block, bands: self.bands }
    }

    /// Tile (`tx`, `ty`) decompressed into `tile` (its old content replaced); false when it is
    /// missing or not what its place says.
    fn decompress(&mut self, dataset: &Dataset, (tx, ty): (usize, usize), tile: &mut Vec<u8>) -> bool {
        let Ok(band) = dataset.rasterband(1) else { return false };
        let item = |what| band.metadata_item(&format!("BLOCK_{what}_{tx}_{ty}"), "TIFF")?.parse::<u64>().ok();
        let (Some(offset), Some(stored)) = (item("OFFSET"), item("SIZE").and_then(|n| usize::try_from(n).ok())) else {
            return false;
        };
        let row_bytes = self.block.0 * self.bands * self.value_bytes();
        let full = row_bytes * self.block.1;
        // DEFLATE adds at most 5 bytes a 64 KiB of stored data, and zlib 6 bytes.
        if offset == 0 || stored == 0 || stored > full + full / 1024 + 1024 {
            return false;
        }
        let read = self.file.read_at_into(offset, stored, &mut self.compressed).is_some();
        if !read || self.compressed.len() != stored || !self.decompressor.zlib_into(&self.compressed, full, tile) {
            return false;
        }
        // A strip at the bottom may hold only the raster's last rows; the rest is never read.
        let rows_left = self.height.saturating_sub(ty * self.block.1).min(self.block.1);
        if tile.len() != full && tile.len() != rows_left * row_bytes {
            return false;
        }
        tile.resize(full, 0);
        true
    }
}

impl Drop for RawTiles {
    /// The file is closed: its tiles go from the store.
    fn drop(&mut self) {
        tile_store::shared().forget_file(self.serial);
    }
}

/// The most bytes of all bands a visit of the ingest's strips covers: about half a core's L2
/// cache on this machine (2 MB), so that the strips the tiles are copied into are still there
/// when each measure reads them (12 passes over a 2000 px S2 strip's 13 bands).
const VISIT_BYTES: usize = 1 << 20;

/// The values of `values` as bytes, for libdeflate's output to be copied into.
fn as_value_bytes<T: GdalType + Copy>(values: &mut [T]) -> &mut [MaybeUninit<u8>] {
    // SAFETY: GDAL's value types are plain integers and floats, for which any bytes are a value;
    // the slice covers exactly the values' memory, borrowed mutably for as long as it lives.
    unsafe { std::slice::from_raw_parts_mut(values.as_mut_ptr().cast(), std::mem::size_of_val(values)) }
}

/// One tile and where it lies in the raster.
struct Part<'a> {
    /// The tile's values, pixel-interleaved.
    tile: &'a [u8],
    /// The tile's first column and row in the raster.
    origin: (usize, usize),
    block: (usize, usize),
    bands: usize,
}

/// The part of `frame` that a block of size `block` whose first pixel is at `origin` covers.
fn overlap(origin: (usize, usize), block: (usize, usize), frame: Window) -> Window {
    let (x0, x1) = (frame.col.max(origin.0), (frame.col + frame.width).min(origin.0 + block.0));
    let (y0, y1) = (frame.row.max(origin.1), (frame.row + frame.height).min(origin.1 + block.1));
    Window { col: x0, row: y0, width: x1.saturating_sub(x0), height: y1.saturating_sub(y0) }
}

impl Part<'_> {
    /// Copies `bands` (1-based) of the pixels of `frame` inside the tile, `value_bytes` bytes a
    /// value, into `planes`: one a band, each holding `frame` row-major.
    fn copy(&self, value_bytes: usize, bands: &[usize], frame: Window, planes: &mut [&mut [MaybeUninit<u8>]]) {
        match value_bytes {
            1 => self.copy_values::<1>(bands, frame, planes),
            2 => self.copy_values::<2>(bands, frame, planes),
            4 => self.copy_values::<4>(bands, frame, planes),
            _ => self.copy_values::<8>(bands, frame, planes),
        }
    }

    fn copy_values<const N: usize>(&self, bands: &[usize], frame: Window, planes: &mut [&mut [MaybeUninit<u8>]]) {
        let (tile, _) = self.tile.as_chunks::<N>();
        let inside = overlap(self.origin, self.block, frame);
        for y in inside.row..inside.row + inside.height {
            let from = ((y - self.origin.1) * self.block.0 + (inside.col - self.origin.0)) * self.bands;
            let pixels = &tile[from..from + inside.width * self.bands];
            let to = (y - frame.row) * frame.width + (inside.col - frame.col);
            for (plane, &band) in planes.iter_mut().zip(bands) {
                let (plane, _) = plane.as_chunks_mut::<N>();
                for (value, pixel) in plane[to..to + inside.width].iter_mut().zip(pixels.chunks_exact(self.bands)) {
                    *value = pixel[band - 1].map(MaybeUninit::new);
                }
            }
        }
    }
}

/// libdeflate's decompressor, used by one thread at a time.
struct Decompressor(*mut libdeflate_sys::libdeflate_decompressor);

// SAFETY: the decompressor holds only its own state, used by whichever thread owns it.
unsafe impl Send for Decompressor {}

impl Decompressor {
    fn new() -> Option<Decompressor> {
        // SAFETY: allocates a decompressor, freed in drop; NULL when out of memory.
        let handle = unsafe { libdeflate_sys::libdeflate_alloc_decompressor() };
        (!handle.is_null()).then_some(Decompressor(handle))
    }

    /// A zlib stream into `tile` (at most `full` bytes; its old content replaced); false when it
    /// is not one or does not fit.
    fn zlib_into(&mut self, input: &[u8], full: usize, tile: &mut Vec<u8>) -> bool {
        // Not zeroed first: libdeflate writes every byte it reports (zeroing cost 5 % of a batch).
        tile.clear();
        if tile.try_reserve(full).is_err() {
            return false;
        }
        let Some(written) = self.zlib(input, &mut tile.spare_capacity_mut()[..full]) else { return false };
        // SAFETY: libdeflate wrote the first `written` bytes, and `written` <= capacity.
        unsafe { tile.set_len(written) };
        true
    }

    /// A zlib stream (TIFF's DEFLATE) into `out`: the bytes written, or None when it is not one
    /// or does not fit.
    fn zlib(&mut self, input: &[u8], out: &mut [MaybeUninit<u8>]) -> Option<usize> {
        let mut written = 0usize;
        // SAFETY: both buffers are valid for their lengths (libdeflate only writes to `out`, at
        // most `out.len()` bytes, and reports how many in `written`).
        let result = unsafe {
            libdeflate_sys::libdeflate_zlib_decompress(
                self.0,
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &raw mut written,
            )
        };
        (result == libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS).then_some(written)
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: allocated in `new`, freed once here.
        unsafe { libdeflate_sys::libdeflate_free_decompressor(self.0) };
    }
}
