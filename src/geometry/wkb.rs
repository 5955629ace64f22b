//! Footprints as OGC Well-Known Binary: the `scenes.geom` column that GIS tools read (GDAL's
//! SQLite driver, QGIS, DuckDB's `ST_GeomFromWKB`, SpatiaLite's `GeomFromWKB`), and the compact
//! form `s12_nearest` builds its index from (no text to parse).

use super::error::{syntax, GeometryError};
use geo::{LineString, Polygon};

/// WKB's geometry type code of a 2-D Polygon.
const POLYGON: u32 = 3;

/// A single-ring polygon of [lon, lat] positions as little-endian WKB.
pub fn polygon(ring: &[[f64; 2]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(13 + 16 * ring.len());
    out.push(1); // little-endian
    out.extend(POLYGON.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    out.extend((ring.len() as u32).to_le_bytes());
    for [x, y] in ring {
        out.extend(x.to_le_bytes());
        out.extend(y.to_le_bytes());
    }
    out
}

/// The exterior ring of a WKB Polygon (either byte order) as [lon, lat] positions.
pub fn polygon_ring(bytes: &[u8]) -> Result<Vec<[f64; 2]>, GeometryError> {
    let mut reader = Reader { bytes, at: 1, little: *bytes.first().ok_or_else(|| syntax("empty WKB"))? == 1 };
    if bytes[0] > 1 {
        return Err(syntax(format!("WKB byte order {} is neither 0 nor 1", bytes[0])));
    }
    let kind = reader.u32()?;
    if kind != POLYGON {
        return Err(syntax(format!("WKB geometry type {kind} is not a 2-D Polygon (3)")));
    }
    if reader.u32()? == 0 {
        return Err(syntax("WKB polygon has no ring"));
    }
    let points = reader.u32()? as usize;
    if points > (bytes.len() - reader.at) / 16 {
        return Err(syntax(format!("WKB ring of {points} points is longer than its {} bytes", bytes.len())));
    }
    (0..points).map(|_| Ok([reader.f64()?, reader.f64()?])).collect()
}

/// A catalog footprint (`scenes.geom`) as a polygon.
pub fn footprint_polygon(bytes: &[u8]) -> Result<Polygon<f64>, GeometryError> {
    let ring = polygon_ring(bytes)?;
    Ok(Polygon::new(LineString::from(ring.iter().map(|&[x, y]| (x, y)).collect::<Vec<_>>()), vec![]))
}

struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
    little: bool,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], GeometryError> {
        let slice = self.bytes.get(self.at..self.at + N).ok_or_else(|| syntax("WKB is truncated"))?;
        self.at += N;
        Ok(slice.try_into().expect("N bytes"))
    }

    fn u32(&mut self) -> Result<u32, GeometryError> {
        let raw = self.take::<4>()?;
        Ok(if self.little { u32::from_le_bytes(raw) } else { u32::from_be_bytes(raw) })
    }

    fn f64(&mut self) -> Result<f64, GeometryError> {
        let raw = self.take::<8>()?;
        Ok(if self.little { f64::from_le_bytes(raw) } else { f64::from_be_bytes(raw) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_survives_the_round_trip_and_matches_gdals_bytes() {
        let ring = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]];
        let bytes = polygon(&ring);
        // What ogr2ogr wrote for this polygon into a SQLite file's WKB column.
        let gdal = "0103000000010000000400000000000000000000000000000000000000000000000000F03F0000000000000000\
                    000000000000F03F000000000000F03F00000000000000000000000000000000";
        assert_eq!(
            bytes,
            (0..gdal.len()).step_by(2).map(|i| u8::from_str_radix(&gdal[i..i + 2], 16).unwrap()).collect::<Vec<_>>()
        );
        assert_eq!(polygon_ring(&bytes).unwrap(), ring);
    }

    #[test]
    fn big_endian_is_read_and_damage_is_refused() {
        let mut big = vec![0u8];
        big.extend(3u32.to_be_bytes());
        big.extend(1u32.to_be_bytes());
        big.extend(1u32.to_be_bytes());
        big.extend(2.5f64.to_be_bytes());
        big.extend((-1.0f64).to_be_bytes());
        assert_eq!(polygon_ring(&big).unwrap(), [[2.5, -1.0]]);
        let good = polygon(&[[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]);
        assert!(polygon_ring(&good[..good.len() - 3]).unwrap_err().to_string().contains("longer than"));
        assert!(polygon_ring(&[]).is_err() && polygon_ring(&[1, 3, 0]).unwrap_err().to_string().contains("truncated"));
        assert!(polygon_ring(&[7]).unwrap_err().to_string().contains("byte order"));
        let point = [1, 1, 0, 0, 0];
        assert!(polygon_ring(&point).unwrap_err().to_string().contains("not a 2-D Polygon"));
    }
}
