"""s12_patches (src/sql/functions/s12_patches.rs), checked against the authors' per-pixel rules in numpy, and the
land-cover mix of each patch against numpy's class counts of the map."""
import json

import pytest
from osgeo import gdal

from conftest import load
from oracles import CLOUDY_SCENE, SCENE, class_mix_oracle, gdal_array, patch_oracle


@pytest.mark.parametrize("scene", [SCENE, CLOUDY_SCENE])
@pytest.mark.parametrize("size, stride", [(64, 57), (100, 100), (240, 1)])
def test_patches_match_numpy(ext, scene, size, stride):
    got = ext.execute("SELECT * FROM s12_patches(?, ?, ?)", (scene, size, stride)).fetchall()
    expected = patch_oracle(ext, scene, size, stride)
    assert [g[:4] for g in got] == [e[:4] for e in expected]
    for g, e in zip(got, expected):
        for a, b in zip(g[4:], e[4:]):
            assert (a is None and b is None) or a == pytest.approx(b, rel=1e-9, abs=1e-12), (g, e)


def test_patches_default_grid_and_the_authors_filter(ext, tp_db):
    # 240 px rasters: no 256 px patch fits, the default grid is empty.
    assert ext.execute("SELECT count(*) FROM s12_patches(?)", (SCENE,)).fetchone()[0] == 0
    kept = ext.execute("""SELECT s.scene_id, p.col, p.row FROM scenes s, s12_patches(s.scene_id, 64, 57) p
                          WHERE s.has_files AND p.cloud_fraction <= 0.001 AND p.nodata_fraction = 0""").fetchall()
    scenes = [r[0] for r in ext.execute("SELECT scene_id FROM scenes WHERE has_files ORDER BY 1")]
    expected = [(s, c, r) for s in scenes for (c, r, _, _, cloud, nodata, _) in patch_oracle(ext, s, 64, 57)
                if nodata == 0 and cloud <= 0.001]
    assert sorted(kept) == sorted(expected) and 0 < len(kept) < 8 * 16


def test_patches_follow_the_catalog_cloud_threshold(tp_db_copy):
    conn = load(tp_db_copy)
    conn.execute("UPDATE s12_meta SET value = '70' WHERE key = 'cloud_threshold'")
    got = conn.execute("SELECT cloud_fraction FROM s12_patches(?, 80, 80)", (CLOUDY_SCENE,)).fetchall()
    expected = patch_oracle(conn, CLOUDY_SCENE, 80, 80, threshold=70)
    assert [g[0] for g in got] == pytest.approx([e[4] for e in expected], rel=1e-12)


def mixes(conn, scene, size, stride):
    rows = conn.execute("SELECT landcover FROM s12_patches(?, ?, ?)", (scene, size, stride)).fetchall()
    return [None if r[0] is None else {int(k): v for k, v in json.loads(r[0]).items()} for r in rows]


def test_patches_give_the_worldcover_mix_of_each_patch(ext):
    ds, classes = gdal_array(ext, SCENE, "worldcover")
    expected = class_mix_oracle(classes, ds.GetRasterBand(1).GetNoDataValue(), 64, 57)
    got = mixes(ext, SCENE, 64, 57)
    assert len(got) == len(expected) and any(len(e) > 1 for e in expected)
    for g, e in zip(got, expected):
        assert g == pytest.approx(e, rel=1e-12)


def test_patches_give_the_igbp_mix_on_sen12ms(ms_db):
    conn = load(ms_db)
    for scene, path in conn.execute("SELECT scene_id, path FROM files WHERE modality = 'lc'").fetchall():
        root = conn.execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]
        igbp = gdal.Open(f"{root}/{path}").ReadAsArray()[0]  # band 1, IGBP
        assert mixes(conn, scene, 32, 16) == [pytest.approx(e, rel=1e-12) for e in class_mix_oracle(igbp, None, 32, 16)]
