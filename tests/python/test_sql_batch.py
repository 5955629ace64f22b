"""s12_batch (src/sql/functions/s12_batch.rs): the batch equals GDAL's reads of the same windows
stacked in the rows' order, for S2 (uint16) and S1 (float32); its errors name the row; the read
limit refuses a batch while its rows are gathered, before any read."""
import io
import os
import sqlite3
from contextlib import closing

import numpy as np
import pytest

from conftest import ingest_tree, load, shell, synth_tree
from oracles import gdal_window

SAMPLES = """SELECT s.scene_id, p.col, p.row FROM scenes s, s12_patches(s.scene_id, 48, 40) p
             WHERE s.has_files AND p.nodata_fraction < 0.5 ORDER BY s.scene_id DESC, p.col, p.row"""


@pytest.fixture(scope="module")
def conn(tp_db):
    with closing(load(tp_db)) as conn:
        yield conn


@pytest.mark.parametrize("modality, bands, numbers, dtype", [
    ("s2", "B4,B3,B2,B8", [4, 3, 2, 8], np.uint16),
    ("s1", "VV,VH", [1, 2], np.float32),
])
def test_the_batch_is_gdals_windows_stacked_in_the_rows_order(conn, modality, bands, numbers, dtype):
    rows = conn.execute(SAMPLES).fetchall()
    assert len(rows) > 20 and len({r[0] for r in rows}) > 1
    blob = conn.execute(f"SELECT s12_batch(scene_id, ?, ?, col, row, 48, 48) FROM ({SAMPLES})",
                        (modality, bands)).fetchone()[0]
    batch = np.load(io.BytesIO(blob))
    assert batch.dtype == dtype and batch.shape == (len(rows), len(numbers), 48, 48)
    for sample, (scene, col, row) in zip(batch, rows):
        np.testing.assert_array_equal(sample, gdal_window(conn, scene, modality, numbers, col, row, 48, 48))


def test_no_row_gives_null(conn):
    assert conn.execute("SELECT s12_batch(390, 's2', 'B4', 0, 0, 8, 8) WHERE 0").fetchone() == (None,)


WINDOWS = "WITH w(c, r) AS (VALUES (0, 0), (64, 0), (128, 64), (176, 176)) "


@pytest.mark.parametrize("sql, message", [
    (WINDOWS + "SELECT s12_batch(390, 's2', 'B4', c, r, 64 + c, 64) FROM w",
     "s12_batch: row 2: a window of 1 x 64 x 128 UInt16 values, unlike the first row's 1 x 64 x 64 UInt16"),
    (WINDOWS + "SELECT s12_batch(390, 's2', 'B4', c + 100, r, 64, 64) FROM w",
     "s12_batch: row 3: window at col 228, row 64 of 64 x 64 px is outside the raster (240 x 240 px)"),
    (WINDOWS + "SELECT s12_batch(390, 's2', iif(c = 64, 'B99', 'B4'), c, r, 64, 64) FROM w",
     "s12_batch: row 2: band 'B99' is not in s2"),
    (WINDOWS + "SELECT s12_batch(iif(c = 176, 99999, 390), 's2', 'B4', c, r, 64, 64) FROM w",
     "s12_batch: row 4: no scene 99999 in the catalog"),
    (WINDOWS + "SELECT s12_batch(iif(c = 128, NULL, 390), 's2', 'B4', c, r, 64, 64) FROM w",
     "s12_batch: row 3: a NULL argument: every row of a batch names a whole window"),
])
def test_errors_name_the_row(tp_db, sql, message):
    code, out, err = shell(tp_db, sql)
    assert code != 0 and message in err, err


def test_the_read_limit_refuses_the_batch_while_its_rows_are_gathered(tp_db):
    """Three 64 x 64 windows (12,288 values) pass a limit of 12,288 and a fourth does not: the
    error is the fourth row's, raised in the step, before the final call reads anything."""
    code, out, err = shell(tp_db, WINDOWS + "SELECT length(s12_batch(390, 's2', 'B4', c, r, 64, 64)) FROM w",
                           SEN12LITE_MAX_READ_VALUES="12288")
    assert code != 0 and ("s12_batch: row 4: the statement would read 16384 values, over the limit of 12288 values "
                          "(SEN12LITE_MAX_READ_VALUES)") in err, err
    code, out, err = shell(tp_db, WINDOWS + "SELECT length(s12_batch(390, 's2', 'B4', c, r, 64, 64)) FROM w WHERE c < 176",
                           SEN12LITE_MAX_READ_VALUES="12288")
    assert code == 0 and out.strip() == str(128 + 3 * 64 * 64 * 2), err


def test_a_view_of_a_foreign_catalog_cannot_call_it(tp_db, tmp_path):
    foreign = tmp_path / "foreign.db"
    with closing(sqlite3.connect(tp_db)) as source, closing(sqlite3.connect(foreign)) as copy:
        source.backup(copy)
        copy.execute("CREATE VIEW v AS SELECT s12_batch(390, 's2', 'B4', 0, 0, 4, 4) AS b")
    code, out, err = shell(foreign, "SELECT length(b) FROM v")
    assert code != 0 and "unsafe use of s12_batch()" in err, err


def test_a_batch_over_many_files_leaves_few_open(tmp_path_factory):
    """A batch over more files than the session keeps open (16) reads them all and then holds at
    most 16 open: a dataset is closed once no pending window of the batch needs it."""
    tree = synth_tree(tmp_path_factory, "sen12ms", scenes=40, size=32, seed=7)
    db = ingest_tree(tmp_path_factory, tree)
    with closing(load(db)) as conn:
        scenes = [r[0] for r in conn.execute("SELECT scene_id FROM scenes WHERE has_files ORDER BY scene_id")]
        assert len(scenes) == 40
        blob = conn.execute("SELECT s12_batch(scene_id, 's2', 'B4', 8, 8, 16, 16) FROM scenes WHERE has_files "
                            "ORDER BY scene_id").fetchone()[0]
        assert np.load(io.BytesIO(blob)).shape == (len(scenes), 1, 16, 16)
        # A file s12_batch reads itself (tiles.rs) has two descriptors: GDAL's and its own.
        open_tiffs = {path for path in map(open_file, os.listdir("/proc/self/fd")) if path.startswith(str(tree))}
        assert 0 < len(open_tiffs) <= 16, open_tiffs


def open_file(fd):
    """The file behind one of this process's descriptors ('' for the listing's own, gone by now)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except FileNotFoundError:
        return ""


ALL = [(0, 0), (64, 0), (128, 64), (176, 176)]
SWAPPED = [(r, c) for c, r in ALL]


@pytest.mark.parametrize("sql, results", [
    # Two results in one row: the first is lent to SQLite, the second must not take its memory.
    ("SELECT s12_batch(390, 's2', 'B4', c, r, 64, 64), s12_batch(390, 's2', 'B8', r, c, 64, 64) FROM w",
     [(4, ALL), (8, SWAPPED)]),
    # One result a group, the statement running throughout.
    ("SELECT s12_batch(390, 's2', iif(c < 100, 'B4', 'B8'), c, r, 64, 64) FROM w GROUP BY c < 100 ORDER BY c < 100",
     [(8, ALL[2:]), (4, ALL[:2])]),
])
def test_results_sqlite_holds_at_once_keep_their_own_values(conn, sql, results):
    """An aggregate's result is lent to SQLite (not copied) while nothing else is: results that
    one statement holds at once are each GDAL's windows."""
    blobs = [blob for row in conn.execute(WINDOWS + sql).fetchall() for blob in row]
    assert len(blobs) == len(results)
    for blob, (band, windows) in zip(blobs, results):
        batch = np.load(io.BytesIO(blob))
        assert batch.shape == (len(windows), 1, 64, 64)
        for sample, (col, row) in zip(batch, windows):
            np.testing.assert_array_equal(sample, gdal_window(conn, 390, "s2", [band], col, row, 64, 64))
