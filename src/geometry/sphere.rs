//! Distances on a spherical Earth from a point to scene footprints (points as unit vectors), and
//! the lon/lat boxes that hold every point within a distance, for searching the catalog's R*Tree.

use super::error::GeometryError;

/// Mean Earth radius (IUGG), km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

type V3 = [f64; 3];

/// The unit vector of a lon/lat position in degrees.
pub fn unit(lon: f64, lat: f64) -> V3 {
    let (lon, lat) = (lon.to_radians(), lat.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: V3, b: V3) -> V3 {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}

/// Angle between two unit vectors, accurate for small and large angles.
fn angle(a: V3, b: V3) -> f64 {
    norm(cross(a, b)).atan2(dot(a, b))
}

/// Angle from `p` to the great-circle arc from `a` to `b` (shorter than half a circle).
fn angle_to_arc(p: V3, a: V3, b: V3) -> f64 {
    let n = cross(a, b);
    let length = norm(n);
    if length < 1e-15 {
        return angle(p, a);
    }
    let n = [n[0] / length, n[1] / length, n[2] / length];
    let along = dot(p, n);
    let foot = [p[0] - along * n[0], p[1] - along * n[1], p[2] - along * n[2]];
    let between = dot(cross(a, foot), n) >= 0.0 && dot(cross(foot, b), n) >= 0.0;
    if between && norm(foot) > 1e-15 {
        along.abs().clamp(0.0, 1.0).asin()
    } else {
        angle(p, a).min(angle(p, b))
    }
}

/// A small convex polygon on the sphere (a scene footprint).
#[derive(Debug, Clone)]
pub struct Footprint {
    vertices: Vec<V3>,
    centre: V3,
}

impl Footprint {
    /// From a lon/lat ring (closed or not) of at least 3 distinct corners.
    pub fn new(ring: &[[f64; 2]]) -> Result<Footprint, GeometryError> {
        let mut vertices: Vec<V3> = ring.iter().map(|&[lon, lat]| unit(lon, lat)).collect();
        if vertices.len() > 1 && vertices.first() == vertices.last() {
            vertices.pop();
        }
        if vertices.len() < 3 {
            return Err(GeometryError::Degenerate("a footprint needs at least 3 corners"));
        }
        let sum = vertices.iter().fold([0.0; 3], |s, v| [s[0] + v[0], s[1] + v[1], s[2] + v[2]]);
        let length = norm(sum);
        if length < 1e-9 {
            return Err(GeometryError::Degenerate("the footprint's corners have no centre"));
        }
        let centre = [sum[0] / length, sum[1] / length, sum[2] / length];
        Ok(Footprint { vertices, centre })
    }

    /// Whether `p` is inside: on the same side of every edge, in the footprint's hemisphere.
    fn contains(&self, p: V3) -> bool {
        let sides: Vec<f64> = self.edges().map(|(a, b)| dot(p, cross(a, b))).collect();
        dot(p, self.centre) > 0.0 && (sides.iter().all(|&s| s >= 0.0) || sides.iter().all(|&s| s <= 0.0))
    }

    fn edges(&self) -> impl Iterator<Item = (V3, V3)> + '_ {
        self.vertices.iter().zip(self.vertices.iter().cycle().skip(1)).map(|(&a, &b)| (a, b))
    }

    /// Angle (radians) from `p` to the footprint; 0 inside.
    pub fn angle_to(&self, p: V3) -> f64 {
        if self.contains(p) {
            return 0.0;
        }
        self.edges().map(|(a, b)| angle_to_arc(p, a, b)).fold(f64::INFINITY, f64::min)
    }
}

/// The lon/lat boxes `[min_lon, min_lat, max_lon, max_lat]` that hold every point within `km` of
/// (lon, lat): the bounding box of the spherical cap (its longitude half-width asin(sin d / cos
/// lat)), split in two where it crosses the antimeridian, all longitudes where it reaches a pole.
pub fn boxes_within(lon: f64, lat: f64, km: f64) -> Vec<[f64; 4]> {
    // A margin for rounding: a box a hair too large costs nothing, one too small loses a scene.
    const MARGIN: f64 = 1e-6;
    let d = (km / EARTH_RADIUS_KM).to_degrees();
    let (low, high) = (lat - d - MARGIN, lat + d + MARGIN);
    if high >= 90.0 || low <= -90.0 {
        return vec![[-180.0, low.max(-90.0), 180.0, high.min(90.0)]];
    }
    let half = ((km / EARTH_RADIUS_KM).sin() / lat.to_radians().cos()).asin().to_degrees() + MARGIN;
    let (west, east) = (lon - half, lon + half);
    match (west < -180.0, east > 180.0) {
        (true, _) => vec![[west + 360.0, low, 180.0, high], [-180.0, low, east, high]],
        (_, true) => vec![[west, low, 180.0, high], [-180.0, low, east - 360.0, high]],
        _ => vec![[west, low, east, high]],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-computed: along a meridian, 1 degree is R * pi / 180 km.
    #[test]
    fn distance_along_a_meridian_is_the_arc() {
        let square = Footprint::new(&[[10.0, 0.0], [11.0, 0.0], [11.0, 1.0], [10.0, 1.0], [10.0, 0.0]]).unwrap();
        let expected = 2.0 * EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;
        assert!((square.angle_to(unit(10.5, -2.0)) * EARTH_RADIUS_KM - expected).abs() < 1e-6);
        assert_eq!(square.angle_to(unit(10.5, 0.5)), 0.0);
        assert!(square.angle_to(unit(-169.5, -0.5)) > 3.0, "the antipode is not inside");
    }

    /// Every point of a ring at the search distance lies in the boxes, at the equator, at 70°,
    /// across the antimeridian and near a pole.
    #[test]
    fn the_boxes_hold_the_whole_circle_at_the_distance() {
        for (lon, lat, km) in [(0.0, 0.0, 500.0), (179.5, 70.0, 300.0), (-179.9, -10.0, 50.0), (20.0, 88.0, 400.0)] {
            let boxes = boxes_within(lon, lat, km);
            let centre = unit(lon, lat);
            for step in 0..3600 {
                let bearing = (f64::from(step) / 10.0).to_radians();
                let (d, phi, lambda) = (km / EARTH_RADIUS_KM, lat.to_radians(), lon.to_radians());
                let lat2 = (phi.sin() * d.cos() + phi.cos() * d.sin() * bearing.cos()).asin();
                let lon2 = lambda + (bearing.sin() * d.sin() * phi.cos()).atan2(d.cos() - phi.sin() * lat2.sin());
                let (x, y) = ((lon2.to_degrees() + 540.0) % 360.0 - 180.0, lat2.to_degrees());
                assert!((angle(centre, unit(x, y)) * EARTH_RADIUS_KM - km).abs() < 1e-6);
                let inside = |b: &[f64; 4]| b[0] <= x && x <= b[2] && b[1] <= y && y <= b[3];
                assert!(boxes.iter().any(inside), "({x}, {y}) at {km} km from ({lon}, {lat}) is outside {boxes:?}");
            }
        }
        assert_eq!(boxes_within(179.5, 0.0, 200.0).len(), 2);
        let polar = boxes_within(10.0, 89.0, 200.0);
        assert_eq!((polar.len(), polar[0][0], polar[0][2], polar[0][3]), (1, -180.0, 180.0, 90.0));
    }
}
