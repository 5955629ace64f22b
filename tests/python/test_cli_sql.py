"""`sen12lite sql` (src/cli/sql.rs): the s12_ functions for clients that cannot load extensions."""
import sqlite3

import numpy as np

from conftest import run
from oracles import SCENE, gdal_array


def test_sql_verb_prints_columns_and_writes_blobs(tp_db, tmp_path):
    out = run("sql", tp_db, "SELECT 1 AS one; SELECT name FROM s12_indices WHERE name = 'ndvi'").stdout
    assert out.split() == ["one", "---", "1", "name", "----", "ndvi"]
    npy = tmp_path / "w.npy"
    run("sql", tp_db, f"SELECT s12_window({SCENE}, 's2', 'B8', 5, 6, 30, 20)", "--blob", npy)
    conn = sqlite3.connect(tp_db)
    _, s2 = gdal_array(conn, SCENE, "s2")
    assert np.array_equal(np.load(npy)[0], s2[7, 6:26, 5:35])
    bad = run("sql", tp_db, "SELECT s12_window(99999, 's2', 'B4', 0, 0, 1, 1)", check=False)
    assert bad.returncode == 2 and "s12_window: no scene 99999 in the catalog" in bad.stderr
    missing = run("sql", tmp_path / "nope.db", "SELECT 1", check=False)
    assert missing.returncode == 2 and "cannot open" in missing.stderr and not (tmp_path / "nope.db").exists()
