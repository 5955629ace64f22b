"""s12_nearest, s12_intersects and s12_intersecting (src/sql/functions/s12_nearest.rs, s12_intersects.rs,
s12_intersecting.rs), checked against a brute-force great-circle search and OGR/GEOS."""
import json
import sqlite3

import numpy as np
import pytest
from osgeo import ogr

from conftest import load


def great_circle_oracle(footprints, lon, lat):
    """Distance (km) from a point to every footprint: 0 inside (ray casting in lon/lat), else the
    minimum over 2000 points along each edge's great circle."""
    def unit(lo, la):
        lo, la = np.radians(lo), np.radians(la)
        return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)
    p = unit(lon, lat)
    t = np.linspace(0, 1, 2000)[:, None]
    out = {}
    for scene_id, ring in footprints:
        ring = np.array(ring)
        inside = False
        for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:]):
            if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        if inside:
            out[scene_id] = 0.0
            continue
        best = np.inf
        for a, b in zip(ring[:-1], ring[1:]):
            va, vb = unit(*a), unit(*b)
            omega = np.arccos(np.clip(va @ vb, -1, 1))
            points = (np.sin((1 - t) * omega) * va + np.sin(t * omega) * vb) / np.sin(omega)
            best = min(best, np.arccos(np.clip(points @ p, -1, 1)).min())
        out[scene_id] = best * 6371.0088
    return out


def test_nearest_matches_a_brute_force_great_circle_search(ext):
    footprints = [(i, json.loads(f)["coordinates"][0]) for i, f in ext.execute("SELECT scene_id, footprint FROM scenes")]
    rng = np.random.default_rng(11)
    points = [(-47.69, -1.92), (11.39, 47.26), (179.9, 0.0)] + [(rng.uniform(-180, 180), rng.uniform(-70, 75)) for _ in range(5)]
    for lon, lat in points:
        distances = great_circle_oracle(footprints, lon, lat)
        got = ext.execute("SELECT scene_id, distance_km FROM s12_nearest(?, ?, 10)", (lon, lat)).fetchall()
        expected = sorted(distances.items(), key=lambda kv: (kv[1], kv[0]))[:10]
        for (gid, gkm), (eid, ekm) in zip(got, expected):
            assert gkm == pytest.approx(ekm, abs=0.02), (lon, lat, got, expected)
            assert gid == eid or abs(distances[gid] - ekm) < 0.02, (lon, lat, got, expected)
        assert [d for _, d in got] == sorted(d for _, d in got)


def test_nearest_follows_the_catalogs_changes(tp_db_copy):
    conn = load(tp_db_copy)
    first = conn.execute("SELECT scene_id FROM s12_nearest(-47.69, -1.92, 1)").fetchone()[0]
    assert conn.execute("SELECT distance_km FROM s12_nearest(-47.69, -1.92, 1)").fetchone()[0] == 0
    other = sqlite3.connect(tp_db_copy)
    other.execute("DELETE FROM scenes WHERE scene_id = ?", (first,))
    other.commit()
    assert conn.execute("SELECT scene_id FROM s12_nearest(-47.69, -1.92, 1)").fetchone()[0] != first


def ogr_intersects(footprint, geometry):
    a = ogr.CreateGeometryFromJson(footprint)
    b = ogr.CreateGeometryFromJson(geometry) if geometry.startswith("{") else ogr.CreateGeometryFromWkt(geometry)
    return int(a.Intersects(b))


def test_intersects_matches_ogr_geos(ext):
    rng = np.random.default_rng(5)
    checked = 0
    for scene_id, footprint, lon, lat in ext.execute("SELECT scene_id, footprint, center_lon, center_lat FROM scenes WHERE has_files"):
        for _ in range(25):
            x, y = lon + rng.normal(0, 0.15), lat + rng.normal(0, 0.15)
            d = abs(rng.normal(0, 0.05))
            candidates = [
                f"POINT({x} {y})",
                f"POLYGON(({x} {y}, {x + d} {y}, {x + d} {y + d}, {x} {y + d}, {x} {y}))",
                f"LINESTRING({x} {y}, {lon} {lat + 1})",
                json.dumps({"type": "Point", "coordinates": [x, y]}),
                json.dumps({"type": "MultiPolygon", "coordinates": [[[[x, y], [x + d, y], [x, y + d], [x, y]]]]}),
            ]
            for geometry in candidates:
                got = ext.execute("SELECT s12_intersects(?, ?)", (scene_id, geometry)).fetchone()[0]
                assert got == ogr_intersects(footprint, geometry), (scene_id, geometry)
                checked += 1
    assert checked == 8 * 25 * 5


def test_intersecting_matches_ogr_geos_over_every_footprint(ext):
    footprints = ext.execute("SELECT scene_id, footprint FROM scenes").fetchall()
    rng = np.random.default_rng(8)
    zones = ["POLYGON((10 44, 12 44, 12 46, 10 46, 10 44))", "POINT(-47.69 -1.92)",
             "POLYGON((-180 -90, 180 -90, 180 90, -180 90, -180 -90))",
             "LINESTRING(-10 10, 30 50)", json.dumps({"type": "MultiPolygon", "coordinates": [
                 [[[0, 0], [20, 0], [20, 20], [0, 0]]], [[[100, 20], [110, 20], [110, 30], [100, 20]]]]})]
    for _ in range(6):
        x, y = rng.uniform(-170, 160), rng.uniform(-60, 60)
        zones.append(f"POLYGON(({x} {y}, {x + 2} {y}, {x + 2} {y + 2}, {x} {y + 2}, {x} {y}))")
    found = 0
    for zone in zones:
        expected = sorted(scene for scene, footprint in footprints if ogr_intersects(footprint, zone))
        found += len(expected)
        got = [r[0] for r in ext.execute("SELECT scene_id FROM s12_intersecting(?)", (zone,))]
        assert got == expected, zone
    assert found > 2319 + 10  # every scene, and some more than none
