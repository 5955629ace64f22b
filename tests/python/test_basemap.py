"""sen12lite.basemap decodes the wheel's Natural Earth TopoJSON as topojson-client (Bostock's own
decoder, the one the Datasette map runs in the browser) does, run by Node as the oracle: the same
land rings point for point, the same border segments; the rings that cross the antimeridian are
drawn on both sides of it and nothing jumps across the map."""
import importlib.util
import json
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ROOT

NODE = shutil.which("node")
STATIC = ROOT / "python" / "sen12lite" / "static"

# The module alone, not the package (whose extension this test does not need): it reads static/ beside it.
_spec = importlib.util.spec_from_file_location("sen12lite_basemap", ROOT / "python" / "sen12lite" / "basemap.py")
basemap = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(basemap)


@pytest.fixture(scope="module")
def oracle():
    if NODE is None:
        pytest.skip("no node")
    out = subprocess.run([NODE, ROOT / "tests" / "node" / "basemap.js", STATIC / "topojson-client.min.js",
                          STATIC / "countries-50m.json"], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def wrapped(points):
    """Longitudes back into [-180, 180), as TopoJSON stores them."""
    return np.column_stack([(points[:, 0] + 180) % 360 - 180, points[:, 1]])


def segments(lines):
    """Each line's consecutive point pairs, unordered, rounded to a micro-degree."""
    out = set()
    for line in lines:
        line = wrapped(np.round(np.asarray(line, dtype=float), 6))
        for a, b in zip(map(tuple, line[:-1]), map(tuple, line[1:])):
            out.add((min(a, b), max(a, b)))
    return out


def test_the_land_is_topojson_clients_land_with_the_antimeridian_rings_drawn_twice(oracle):
    expected = [np.asarray(ring) for geometry in oracle["land"] for polygon in geometry["coordinates"] for ring in polygon]
    rings = basemap.land()
    assert len(rings) > len(expected) > 1000
    i = 0
    for ring in expected:
        assert np.allclose(wrapped(rings[i]), wrapped(ring), atol=1e-9), i
        twin = i + 1 < len(rings) and len(rings[i + 1]) == len(ring) and np.allclose(wrapped(rings[i + 1]), wrapped(ring), atol=1e-9)
        if twin:  # the copy on the other side is the same ring moved by exactly 360 degrees
            assert np.allclose(np.abs(rings[i + 1][:, 0] - rings[i][:, 0]), 360)
        i += 2 if twin else 1
    assert i == len(rings)


def test_no_line_jumps_across_the_map_except_the_ring_round_the_south_pole():
    for ring in basemap.land():
        if np.abs(np.diff(ring[:, 0])).max() > 180:
            assert ring[:, 1].max() < -60, ring[:, 1].max()
    assert all(np.abs(np.diff(line[:, 0])).max() < 180 for line in basemap.borders() if len(line) > 1)


def test_the_borders_are_topojson_clients_mesh_between_countries(oracle):
    assert segments(basemap.borders()) == segments(oracle["borders"])
