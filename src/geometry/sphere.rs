//! Distances on a spherical Earth from a point to scene footprints, and an R*-tree that finds
//! the k nearest footprints. Points are unit vectors; the tree indexes each footprint by a 3-D
//! box that contains it, so the box distance is a lower bound of the true distance and the
//! tree's nearest-first search is exact.

use rstar::{PointDistance, RTree, RTreeObject, AABB};

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
    /// The scene whose footprint this is.
    pub scene_id: i64,
    vertices: Vec<V3>,
    centre: V3,
    envelope: AABB<V3>,
}

impl Footprint {
    /// From a lon/lat ring (closed or not) of at least 3 distinct corners.
    pub fn new(scene_id: i64, ring: &[[f64; 2]]) -> Result<Footprint, String> {
        let mut vertices: Vec<V3> = ring.iter().map(|&[lon, lat]| unit(lon, lat)).collect();
        if vertices.len() > 1 && vertices.first() == vertices.last() {
            vertices.pop();
        }
        if vertices.len() < 3 {
            return Err(format!("scene {scene_id}: a footprint needs at least 3 corners"));
        }
        let sum = vertices.iter().fold([0.0; 3], |s, v| [s[0] + v[0], s[1] + v[1], s[2] + v[2]]);
        let length = norm(sum);
        if length < 1e-9 {
            return Err(format!("scene {scene_id}: the footprint's corners have no centre"));
        }
        let centre = [sum[0] / length, sum[1] / length, sum[2] / length];
        // Every point of the polygon is within (1 - cos r) of the corners' box, r the largest
        // angle from the centre to a corner: pad the box by that so it contains the polygon.
        let radius = vertices.iter().map(|&v| angle(centre, v)).fold(0.0, f64::max);
        let pad = (1.0 - radius.cos()) + 1e-12;
        let lower = vertices.iter().fold([f64::MAX; 3], |m, v| [m[0].min(v[0]), m[1].min(v[1]), m[2].min(v[2])]);
        let upper = vertices.iter().fold([f64::MIN; 3], |m, v| [m[0].max(v[0]), m[1].max(v[1]), m[2].max(v[2])]);
        let envelope = AABB::from_corners(lower.map(|x| x - pad), upper.map(|x| x + pad));
        Ok(Footprint { scene_id, vertices, centre, envelope })
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

impl RTreeObject for Footprint {
    type Envelope = AABB<V3>;
    fn envelope(&self) -> AABB<V3> {
        self.envelope
    }
}

fn chord_to_angle(chord_2: f64) -> f64 {
    2.0 * (chord_2.sqrt() / 2.0).clamp(0.0, 1.0).asin()
}

impl PointDistance for Footprint {
    /// Squared chord length, the measure the box distance bounds from below.
    fn distance_2(&self, p: &V3) -> f64 {
        let chord = 2.0 * (self.angle_to(*p) / 2.0).sin();
        chord * chord
    }
}

/// All footprints of a catalog, nearest first.
pub struct FootprintIndex {
    tree: RTree<Footprint>,
}

impl FootprintIndex {
    /// Indexes `footprints` for nearest-first searches.
    pub fn new(footprints: Vec<Footprint>) -> FootprintIndex {
        FootprintIndex { tree: RTree::bulk_load(footprints) }
    }

    /// The `k` footprints nearest to (lon, lat): scene_id and great-circle distance in km,
    /// nearest first, equal distances (scenes of one place) by scene_id.
    pub fn nearest(&self, lon: f64, lat: f64, k: usize) -> Vec<(i64, f64)> {
        let p = unit(lon, lat);
        let mut found: Vec<(f64, i64)> = Vec::with_capacity(k);
        for (footprint, chord_2) in self.tree.nearest_neighbor_iter_with_distance_2(&p) {
            // Past the k-th, keep only ties with it, so the order below does not depend on the tree.
            if found.len() >= k && found.last().is_some_and(|&(last, _)| chord_2 > last) {
                break;
            }
            found.push((chord_2, footprint.scene_id));
        }
        found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        found.truncate(k);
        found.into_iter().map(|(chord_2, id)| (id, chord_to_angle(chord_2) * EARTH_RADIUS_KM)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-computed: along a meridian, 1 degree is R * pi / 180 km.
    #[test]
    fn distance_along_a_meridian_is_the_arc() {
        let square = Footprint::new(1, &[[10.0, 0.0], [11.0, 0.0], [11.0, 1.0], [10.0, 1.0], [10.0, 0.0]]).unwrap();
        let expected = 2.0 * EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;
        assert!((square.angle_to(unit(10.5, -2.0)) * EARTH_RADIUS_KM - expected).abs() < 1e-6);
        assert_eq!(square.angle_to(unit(10.5, 0.5)), 0.0);
        assert!(square.angle_to(unit(-169.5, -0.5)) > 3.0, "the antipode is not inside");
    }
}
