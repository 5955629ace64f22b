"""Web forms send text: every s12_ function that takes a scene answers the same for the scene_id as
an INTEGER, as a TEXT of digits (what Datasette's canned-query form sends for `206`) and as the
scene's name; numeric arguments given as text holding a number work as the numbers."""
from contextlib import closing

import pytest

from conftest import load

# Each call with {scene} for the scene argument; every one reads scene 390 of the test catalog.
CALLS = [
    "SELECT hex(s12_window({scene}, 's2', 'B4,B8', 3, 5, 16, 8))",
    "SELECT s12_pixel({scene}, 's2', 'B4', 100, 120)",
    "SELECT s12_value({scene}, 's2', 'B4', lon, lat) FROM s12_pixels(390, 's2', 100, 120, 1, 1)",
    "SELECT s12_stats({scene}, 's2', 'B4', 0, 0, 32, 32)",
    "SELECT hex(s12_index({scene}, 'ndvi', 0, 0, 16, 16))",
    "SELECT s12_index_mean({scene}, 'ndvi')",
    "SELECT group_concat(cloud_fraction || ':' || nodata_fraction) FROM s12_patches({scene}, 64, 64)",
    "SELECT count(*), sum(value) FROM s12_pixels({scene}, 's2', 0, 0, 4, 4)",
    "SELECT s12_intersects({scene}, (SELECT footprint FROM scenes WHERE scene_id = 390))",
    "SELECT s12_zonal({scene}, 's2', 'B4', (SELECT footprint FROM scenes WHERE scene_id = 390))",
    "SELECT s12_band_summary({scene}, 's2', 'B4')",
    "SELECT s12_normalization({scene}, 's2', 'B4,B8')",
    "SELECT hex(s12_png({scene}, 'rgb', 0, 0, 32, 32))",
]


@pytest.fixture(scope="module")
def conn(tp_db):
    with closing(load(tp_db)) as conn:
        yield conn


@pytest.mark.parametrize("call", CALLS, ids=[c.split("(")[1] if c.startswith("SELECT s12") else c[:30] for c in CALLS])
def test_a_scene_as_integer_digits_or_name_gives_one_answer(conn, call):
    name = conn.execute("SELECT name FROM scenes WHERE scene_id = 390").fetchone()[0]
    answers = [conn.execute(call.format(scene=scene)).fetchall() for scene in ("390", "'390'", "' 390 '", f"'{name}'")]
    assert answers[0][0][0] is not None, answers[0]
    assert all(answer == answers[0] for answer in answers), answers


def test_numbers_as_text_are_the_numbers(conn):
    as_numbers = conn.execute("SELECT s12_pixel(390, 's2', 'B4', 100, 120), s12_season('2020-07-01', -45)").fetchone()
    as_text = conn.execute("SELECT s12_pixel('390', 's2', 'B4', '100', ' 120'), s12_season('2020-07-01', '-45')").fetchone()
    assert as_text == as_numbers and None not in as_numbers


@pytest.mark.parametrize("scene, message", [
    ("'3900000'", "s12_pixel: no scene 3900000 in the catalog"),
    ("'39x'", "s12_pixel: no scene '39x' in the catalog"),
    ("'99999999999999999999999'", "s12_pixel: no scene '99999999999999999999999' in the catalog"),
])
def test_text_that_names_no_scene_is_still_an_error_naming_it(conn, scene, message):
    with pytest.raises(Exception, match=message.replace("(", r"\(").replace(")", r"\)")):
        conn.execute(f"SELECT s12_pixel({scene}, 's2', 'B4', 0, 0)").fetchone()
