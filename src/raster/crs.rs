//! A file's CRS as GDAL reads it, remembered by the file's GeoTIFF keys. Asking GDAL for a
//! GeoTIFF's CRS makes it build one from the keys through PROJ (a search of PROJ's database and
//! a WKT round trip), which costs more than reading the pixels of a 256 px patch; the keys
//! themselves are a few hundred bytes at the front of the file. Files whose key directory and
//! parameters are the same byte for byte have the same CRS, so an ingest worker asks GDAL once per
//! distinct directory (a SEN12MS tree has a few dozen UTM zones for 180,662 patches).

use super::error::Result;
use super::open::{apply_to_pixels, transform_to_lonlat};
use super::vsi::VsiFile;
use gdal::spatial_ref::CoordTransform;
use gdal::Dataset;
use std::collections::HashMap;
use std::ffi::CStr;
use std::path::Path;

/// The TIFF tags that hold a GeoTIFF's CRS: GeoKeyDirectory, GeoDoubleParams, GeoAsciiParams.
const GEO_TAGS: [u16; 3] = [34735, 34736, 34737];
/// More IFD entries, or geo tags longer than this, are not a file of ours: GDAL decides alone.
const MAX_ENTRIES: u64 = 1024;
const MAX_TAG_BYTES: u64 = 64 << 10;

/// What GDAL made of one CRS: its EPSG code and, once asked for, the transformation to lon/lat.
pub struct FileCrs {
    /// The authority code GDAL finds for the CRS, if any (the `files.epsg` column).
    pub epsg: Option<i64>,
    to_lonlat: Option<CoordTransform>,
}

impl FileCrs {
    fn of(dataset: &Dataset) -> FileCrs {
        FileCrs { epsg: authority_code(dataset), to_lonlat: None }
    }

    /// Lon/lat of positions `(col, row)` in pixel units of `dataset`, a raster of this CRS.
    pub fn pixels_to_lonlat(&mut self, dataset: &Dataset, positions: &[(f64, f64)]) -> Result<Vec<[f64; 2]>> {
        let transform = match self.to_lonlat.take() {
            Some(known) => known,
            None => transform_to_lonlat(dataset)?,
        };
        let placed = apply_to_pixels(&transform, dataset, positions);
        self.to_lonlat = Some(transform);
        placed
    }
}

/// The CRSs one worker has seen, by GeoTIFF key bytes.
#[derive(Default)]
pub struct CrsCache {
    known: HashMap<Vec<u8>, FileCrs>,
    /// The CRS of the last file whose keys could not be read: asked of GDAL for that file alone.
    unkeyed: Option<FileCrs>,
}

impl CrsCache {
    /// The CRS of `dataset`, opened from `path`: remembered from a file with the same keys, or
    /// asked of GDAL.
    pub fn of(&mut self, path: &Path, dataset: &Dataset) -> &mut FileCrs {
        match read_geo_tags(path) {
            Some(key) => self.known.entry(key).or_insert_with(|| FileCrs::of(dataset)),
            None => self.unkeyed.insert(FileCrs::of(dataset)),
        }
    }
}

/// The authority code GDAL gives the dataset's CRS (as `EPSG:32632` gives 32632). GDAL's own SRS
/// object is read in place: `Dataset::spatial_ref` would clone it through WKT, another PROJ parse.
fn authority_code(dataset: &Dataset) -> Option<i64> {
    // SAFETY: GDALGetSpatialRef returns the dataset's own object or NULL, valid while the dataset
    // is open; the code string belongs to that object and is parsed at once.
    unsafe {
        let srs = gdal_sys::GDALGetSpatialRef(dataset.c_dataset());
        if srs.is_null() {
            return None;
        }
        let code = gdal_sys::OSRGetAuthorityCode(srs, std::ptr::null());
        (!code.is_null()).then(|| CStr::from_ptr(code).to_str().ok()?.parse().ok()).flatten()
    }
}

/// The byte order, then each geo tag of the first image's IFD as (tag, type, count, value bytes),
/// of a classic TIFF or a BigTIFF; None when there is no key directory or anything is out of
/// place (GDAL then decides, as for any file).
fn read_geo_tags(path: &Path) -> Option<Vec<u8>> {
    let mut file = VsiFile::open(path).ok()?;
    let header = file.read_at(0, 16)?;
    let order = ByteOrder::of(header.get(..2)?)?;
    let layout = match order.u16(header.get(2..4)?) {
        42 => Layout { big: false, ifd: u64::from(order.u32(header.get(4..8)?)) },
        43 => Layout { big: true, ifd: order.u64(header.get(8..16)?) },
        _ => return None,
    };
    let (count_bytes, entry_bytes, field_bytes) = if layout.big { (8, 20, 8) } else { (2, 12, 4) };
    let count = file.read_at(layout.ifd, count_bytes).filter(|c| c.len() == count_bytes)?;
    let entries = if layout.big { order.u64(&count) } else { u64::from(order.u16(&count)) };
    if entries > MAX_ENTRIES {
        return None;
    }
    let table = file.read_at(layout.ifd + count_bytes as u64, entries as usize * entry_bytes)?;
    if table.len() != entries as usize * entry_bytes {
        return None;
    }
    let mut key = vec![header[0]];
    let mut has_directory = false;
    for entry in table.chunks_exact(entry_bytes) {
        let tag = order.u16(&entry[..2]);
        if !GEO_TAGS.contains(&tag) {
            continue;
        }
        has_directory |= tag == GEO_TAGS[0];
        let kind = order.u16(&entry[2..4]);
        let values = if layout.big { order.u64(&entry[4..12]) } else { u64::from(order.u32(&entry[4..8])) };
        let bytes = values.checked_mul(type_bytes(kind)?).filter(|b| *b <= MAX_TAG_BYTES)?;
        let field = &entry[entry_bytes - field_bytes..];
        let data = match bytes <= field_bytes as u64 {
            true => field[..bytes as usize].to_vec(),
            false => {
                let offset = if layout.big { order.u64(field) } else { u64::from(order.u32(field)) };
                Some(file.read_at(offset, bytes as usize)?).filter(|d| d.len() as u64 == bytes)?
            }
        };
        key.extend(entry[..4].iter().chain(&values.to_le_bytes()).chain(&data));
    }
    has_directory.then_some(key)
}

/// Where the first IFD is, and whether offsets and counts are 8 bytes (BigTIFF).
struct Layout {
    big: bool,
    ifd: u64,
}

/// Bytes per value of a TIFF field type; None for a type no geo tag has.
fn type_bytes(kind: u16) -> Option<u64> {
    match kind {
        1 | 2 | 6 | 7 => Some(1),
        3 | 8 => Some(2),
        4 | 9 | 11 => Some(4),
        5 | 10 | 12 | 16 | 17 => Some(8),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    fn of(mark: &[u8]) -> Option<ByteOrder> {
        match mark {
            b"II" => Some(ByteOrder::Little),
            b"MM" => Some(ByteOrder::Big),
            _ => None,
        }
    }

    fn u16(self, bytes: &[u8]) -> u16 {
        let b = [bytes[0], bytes[1]];
        match self {
            ByteOrder::Little => u16::from_le_bytes(b),
            ByteOrder::Big => u16::from_be_bytes(b),
        }
    }

    fn u32(self, bytes: &[u8]) -> u32 {
        let b = [bytes[0], bytes[1], bytes[2], bytes[3]];
        match self {
            ByteOrder::Little => u32::from_le_bytes(b),
            ByteOrder::Big => u32::from_be_bytes(b),
        }
    }

    fn u64(self, bytes: &[u8]) -> u64 {
        let b: [u8; 8] = std::array::from_fn(|i| bytes[i]);
        match self {
            ByteOrder::Little => u64::from_le_bytes(b),
            ByteOrder::Big => u64::from_be_bytes(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::open::{open_geotiff, pixels_to_lonlat};
    use crate::synth::geotiff::{write_geotiff, Band, Placement};

    fn write(dir: &Path, name: &str, epsg: u32, extra: &[&str]) -> std::path::PathBuf {
        let path = dir.join(name);
        let place = Placement { epsg, left: 500_000.0, top: 5_200_000.0, size: 16 };
        write_geotiff(&path, &place, vec![Band { name: "b", values: vec![1u16; 256] }], None, extra).unwrap();
        path
    }

    #[test]
    fn a_remembered_crs_is_what_gdal_says_of_each_file() {
        let dir = std::env::temp_dir().join(format!("s12-crs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = [
            write(&dir, "a.tif", 32632, &[]),
            write(&dir, "b.tif", 32733, &[]),
            write(&dir, "c.tif", 32632, &["BIGTIFF=YES"]),
            write(&dir, "d.tif", 32632, &["ENDIANNESS=BIG"]),
            write(&dir, "e.tif", 32733, &[]),
        ];
        let corners = [(0.0, 0.0), (16.0, 16.0)];
        let mut cache = CrsCache::default();
        for _ in 0..2 {
            for path in &files {
                let dataset = open_geotiff(path).unwrap();
                let gdal_epsg = dataset.spatial_ref().unwrap().auth_code().ok().map(i64::from);
                let crs = cache.of(path, &dataset);
                assert_eq!(crs.epsg, gdal_epsg, "{}", path.display());
                assert_eq!(crs.pixels_to_lonlat(&dataset, &corners), pixels_to_lonlat(&dataset, &corners));
            }
        }
        // One entry per distinct key directory: the two zones, and 32632 big-endian (a BigTIFF's
        // keys are the same values as a classic TIFF's).
        assert_eq!(cache.known.len(), 3);
        assert!(read_geo_tags(&dir.join("missing.tif")).is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn damaged_headers_never_panic_and_lose_their_key() {
        let dir = std::env::temp_dir().join(format!("s12-crs-damaged-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = std::fs::read(write(&dir, "good.tif", 32632, &[])).unwrap();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut read_any = 0;
        for round in 0..3000 {
            let mut bytes = good.clone();
            let at = (x % bytes.len() as u64) as usize;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match round % 3 {
                0 => bytes.truncate(at),
                _ => bytes[at] ^= (x >> 32) as u8 | 1,
            }
            let name = format!("/vsimem/s12-crs-{}-{round}.tif", std::process::id());
            gdal::vsi::create_mem_file(&name, bytes).unwrap();
            read_any += usize::from(read_geo_tags(Path::new(&name)).is_some());
            gdal::vsi::unlink_mem_file(&name).unwrap();
        }
        assert!(read_any > 0);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
