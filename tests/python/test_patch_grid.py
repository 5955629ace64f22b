"""The patch grid the ingest keeps (`patches`, src/catalog/patch_grid.rs, src/raster/grid.rs): on every
scene of the fixtures, equal to the authors' per-pixel rules in numpy and to what s12_patches computes
from the rasters; served by s12_patches(scene) without reading a raster; kept up to date as files change."""
import json
import os
import re
import shutil
import subprocess
from contextlib import closing

import numpy as np
import pytest
from osgeo import gdal

from conftest import BEFORE_VERSION_4, EXT, ROOT, ingest_tree, load, older_schema, run, synth_tree
from oracles import class_mix_oracle, gdal_array, patch_oracle

COLUMNS = "col, row, width, height, cloud_fraction, nodata_fraction, ndvi_mean, landcover"


@pytest.fixture(scope="module")
def grid_tree(tmp_path_factory):
    """Eight SEN12TP scenes of 600 px (a 2 x 2 grid each), three with swath edges (nodata)."""
    return synth_tree(tmp_path_factory, "sen12tp", scenes=8, size=600, seed=3)


@pytest.fixture
def grid_db(grid_tree, tmp_path_factory):
    return ingest_tree(tmp_path_factory, grid_tree)


def stored(conn, scene):
    return conn.execute(f"SELECT {COLUMNS} FROM patches WHERE scene_id = ? ORDER BY row, col", (scene,)).fetchall()


def scenes_with_files(conn):
    return [r[0] for r in conn.execute("SELECT scene_id FROM scenes WHERE has_files ORDER BY 1")]


def assert_rows_equal(got, expected):
    assert [g[:4] for g in got] == [e[:4] for e in expected]
    for g, e in zip(got, expected):
        for a, b in zip(g[4:7], e[4:7]):
            assert (a is None and b is None) or a == pytest.approx(b, rel=1e-12, abs=1e-15), (g, e)


def test_every_scene_has_the_authors_grid_as_numpy_computes_it(grid_db):
    with closing(load(grid_db)) as conn:
        scenes = scenes_with_files(conn)
        assert conn.execute("SELECT count(*), sum(patches) FROM patch_grids").fetchone() == (len(scenes), 4 * len(scenes))
        nodata = 0
        for scene in scenes:
            got = stored(conn, scene)
            assert_rows_equal(got, patch_oracle(conn, scene, 256, 249))
            mixes = [None if g[7] is None else {int(k): v for k, v in json.loads(g[7]).items()} for g in got]
            assert mixes == [pytest.approx(e, rel=1e-12) for e in worldcover_mixes(conn, scene)]
            nodata += sum(g[5] > 0 for g in got)
        assert nodata > 0  # the swath edges are in some patches: the union of S1 and S2 nodata is tested


def test_the_stored_grid_equals_what_s12_patches_computes_from_the_rasters(grid_db, grid_tree):
    with closing(load(grid_db)) as conn:
        scenes = scenes_with_files(conn)
        kept = {scene: stored(conn, scene) for scene in scenes}
        # A file with another modification time is not the one the grid was counted from: computed.
        for path in grid_tree.rglob("*_s1.tif"):
            os.utime(path)
        for scene in scenes:
            assert conn.execute("SELECT * FROM s12_patches(?)", (scene,)).fetchall() == kept[scene]


def test_sen12ms_patches_have_their_grid_too(tmp_path_factory):
    tree = synth_tree(tmp_path_factory, "sen12ms", scenes=6, size=256, seed=5)
    db = ingest_tree(tmp_path_factory, tree)
    with closing(load(db)) as conn:
        scenes = scenes_with_files(conn)
        kept = {scene: stored(conn, scene) for scene in scenes}
        assert all(len(rows) == 1 for rows in kept.values()) and any(r[0][7] for r in kept.values())
        for path in tree.rglob("*.tif"):
            os.utime(path)
        for scene in scenes:
            assert conn.execute("SELECT * FROM s12_patches(?)", (scene,)).fetchall() == kept[scene]


def query_reading_nothing(db, sql):
    """`sql` in a fresh process whose extension may read one value from files: only what the catalog
    answers can come back."""
    code = ("import sqlite3, sys, json; c = sqlite3.connect(sys.argv[1]); c.enable_load_extension(True); "
            "c.load_extension(sys.argv[2]); print(json.dumps(c.execute(sys.argv[3]).fetchall()))")
    env = dict(os.environ, SEN12LITE_MAX_READ_VALUES="1")
    result = subprocess.run(["/usr/bin/python3", "-c", code, str(db), EXT, sql], capture_output=True, text=True, env=env)
    return result.returncode, result.stdout, result.stderr


def clean_patches(conn, max_cloud, min_cropland):
    """(scene, col, row) of the patches numpy finds clean enough with enough cropland."""
    return [[scene, c, r] for scene in scenes_with_files(conn) for (c, r, _, _, cloud, nodata, _), mix in
            zip(patch_oracle(conn, scene, 256, 249), worldcover_mixes(conn, scene))
            if cloud <= max_cloud and nodata == 0 and (mix or {}).get(40, 0) >= min_cropland]


def test_a_patch_query_over_all_scenes_reads_no_raster(grid_db):
    clean = """SELECT s.scene_id, p.col, p.row FROM scenes s, s12_patches(s.scene_id) p
               WHERE s.has_files AND p.cloud_fraction <= 0.05 AND p.nodata_fraction = 0
                 AND coalesce(p.landcover ->> '$."40"', 0) >= 0.3 ORDER BY 1, 2, 3"""
    code, out, err = query_reading_nothing(grid_db, clean)
    assert code == 0, err
    with closing(load(grid_db)) as conn:
        expected = clean_patches(conn, 0.05, 0.3)
    assert json.loads(out) == expected and expected
    # The same grid computed (another stride) is refused by the read limit: the answer above read nothing.
    sql = "SELECT count(*) FROM scenes s, s12_patches(s.scene_id, 256, 248) p WHERE s.has_files"
    code, _, err = query_reading_nothing(grid_db, sql)
    assert code != 0 and "SEN12LITE_MAX_READ_VALUES" in err


def test_the_patch_query_of_docs_catalog_gives_numpys_patches(grid_db):
    doc = (ROOT / "docs" / "catalog.md").read_text()
    sql = re.search(r"```sql\n(SELECT scene_id, col, row FROM patches.*?)```", doc, re.S).group(1)
    code, out, err = query_reading_nothing(grid_db, sql)
    assert code == 0, err
    with closing(load(grid_db)) as conn:
        assert sorted(json.loads(out)) == sorted(clean_patches(conn, 0.001, 0.3))


def worldcover_mixes(conn, scene):
    ds, classes = gdal_array(conn, scene, "worldcover")
    return class_mix_oracle(classes, ds.GetRasterBand(1).GetNoDataValue(), 256, 249)


def with_nodata_band(path, rows):
    """Rewrites the first `rows` rows of every band of a GeoTIFF as nodata (in place, same size)."""
    ds = gdal.Open(str(path), gdal.GA_Update)
    for i in range(1, ds.RasterCount + 1):
        band = ds.GetRasterBand(i)
        tag = band.GetNoDataValue()
        values = band.ReadAsArray()
        values[:rows] = np.nan if tag is None else tag
        band.WriteArray(values)
    ds = None


def test_a_changed_file_gives_its_scene_a_new_grid_and_leaves_the_others(grid_tree, tmp_path):
    tree = tmp_path / "data"
    shutil.copytree(grid_tree, tree)
    (tree / "md5sums.txt").unlink()
    db = tmp_path / "catalog.db"
    run("ingest", tree, "--db", db)
    with closing(load(db)) as conn:
        scenes = scenes_with_files(conn)
        before = {scene: stored(conn, scene) for scene in scenes}
        changed = scenes[0]
        s1 = conn.execute("SELECT path FROM files WHERE scene_id = ? AND modality = 's1'", (changed,)).fetchone()[0]
    with_nodata_band(tree / s1, 300)
    run("ingest", tree, "--db", db)
    with closing(load(db)) as conn:
        after = stored(conn, changed)
        assert_rows_equal(after, patch_oracle(conn, changed, 256, 249))
        assert [r[5] for r in after[:2]] == [1.0, 1.0] and after != before[changed]
        assert all(stored(conn, scene) == before[scene] for scene in scenes[1:])


def test_a_catalog_from_before_the_grid_gets_it_at_the_next_ingest(grid_tree, tmp_path):
    db = tmp_path / "catalog.db"
    run("ingest", grid_tree, "--db", db)
    older_schema(db, [*BEFORE_VERSION_4, "UPDATE s12_meta SET value = '3' WHERE key = 'schema_version'"])
    result = run("ingest", grid_tree, "--db", db)
    with closing(load(db)) as conn:
        assert conn.execute("SELECT value FROM s12_meta WHERE key = 'schema_version'").fetchone()[0] == "4"
        for scene in scenes_with_files(conn):
            assert_rows_equal(stored(conn, scene), patch_oracle(conn, scene, 256, 249))
    # s1, s2 and worldcover counted again; dsm left as it was.
    assert "24 scanned, 8 unchanged" in result.stdout, result.stdout
