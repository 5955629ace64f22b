//! s12_nearest through `sen12lite::register`, against a brute-force great-circle search over the
//! catalog's scene centres, computed here.

mod common;
use common::connection;

/// Great-circle distance in km on a sphere of the mean Earth radius.
fn haversine_km([lon1, lat1]: [f64; 2], [lon2, lat2]: [f64; 2]) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0088 * a.sqrt().asin()
}

#[test]
fn the_nearest_scenes_are_nearer_than_every_scene_left_out() {
    // A footprint holds its centre, so its distance is at most the centre's (computed here by brute
    // force over the whole catalog): a scene whose centre is nearer than the k-th answer must be
    // among the answers, and no answer can be farther than its own centre.
    let conn = connection();
    let point = [11.39, 47.26];
    let got: Vec<(i64, f64)> = conn
        .prepare("SELECT scene_id, distance_km FROM s12_nearest(?1, ?2, 5)")
        .unwrap()
        .query_map(point, |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let centres: Vec<(i64, f64)> = conn
        .prepare("SELECT scene_id, center_lon, center_lat FROM scenes")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, haversine_km(point, [r.get(1)?, r.get(2)?]))))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(got.len(), 5);
    assert!(got.windows(2).all(|w| w[0].1 <= w[1].1), "{got:?}");
    let farthest = got[4].1;
    for (scene, centre_km) in &centres {
        let answer = got.iter().find(|(id, _)| id == scene);
        if *centre_km < farthest {
            assert!(answer.is_some(), "scene {scene}, centre at {centre_km} km, missing from {got:?}");
        }
        if let Some((_, km)) = answer {
            assert!(*km <= centre_km + 1e-6, "scene {scene}: {km} km, its centre at {centre_km}");
        }
    }
}

#[test]
fn a_point_inside_a_footprint_is_at_distance_zero_from_it() {
    let conn = connection();
    let (scene, lon, lat): (i64, f64, f64) = conn
        .query_row("SELECT scene_id, center_lon, center_lat FROM scenes WHERE has_files LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    let zero: Vec<i64> = conn
        .prepare("SELECT scene_id FROM s12_nearest(?1, ?2, 50) WHERE distance_km = 0")
        .unwrap()
        .query_map([lon, lat], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(zero.contains(&scene), "{scene} not in {zero:?}");
}
