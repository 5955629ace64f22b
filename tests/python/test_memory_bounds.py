"""Memory stays bounded on rasters far larger than the datasets': requests over a limit are refused
before anything is allocated, whole-raster reads go by strips, and the ingest keeps constant
memory for integer bands and a cap for float ones. Peak RSS is measured in a fresh process.

The large rasters are sparse tiled GeoTIFFs (a few KB on disk, gigabytes decoded) with one block
of known values, so the expected statistics are a hand computation."""
import contextlib
import os
import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal

from conftest import BIN, EXT, connect, peak_rss

gdal.UseExceptions()
SCENE = 390
MIB = 1 << 20


def sparse_raster(path, size, dtype, block_values=(), nodata=()):
    """A tiled, DEFLATE, sparse GeoTIFF with one band per `block_values` entry (or one band): the
    top-left 256 x 256 block of band i holds block_values[i], the rest 0; `nodata` tags bands 1..n with 0."""
    bands = max(len(block_values), 1)
    ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, bands, dtype,
                                              ["TILED=YES", "COMPRESS=DEFLATE", "SPARSE_OK=TRUE", "BIGTIFF=YES"])
    ds.SetGeoTransform([500000, 10, 0, 5000000, 0, -10])
    ds.SetProjection("EPSG:32632")
    for band, value in enumerate(block_values, start=1):
        ds.GetRasterBand(band).WriteArray(np.full((256, 256), value))
    for band in nodata:
        ds.GetRasterBand(band).SetNoDataValue(0)
    ds = None


def test_the_ingest_reads_a_large_integer_raster_by_strips_and_caps_float_statistics(tp_copy, tmp_path):
    scene = next(tp_copy.glob(f"*/*_{SCENE}"))
    dsm = scene / f"{SCENE}_dsm.tif"
    dsm.unlink()
    sparse_raster(dsm, 12000, gdal.GDT_Int16, block_values=[500])  # 144 Mpx, 275 MiB as Int16
    sparse_raster(scene / f"{SCENE}_cgls.tif", 12000, gdal.GDT_Float32)  # 549 MiB of float values
    db = tmp_path / "c.db"
    result, rss = peak_rss([BIN, "ingest", tp_copy, "--db", db, "--no-checksums", "--jobs", "2"])
    assert result.returncode == 1, result.stderr  # the float file's statistics were skipped, and said so
    conn = connect(db)
    row = conn.execute("SELECT valid_count, nodata_count, min, max, mean FROM band_stats WHERE scene_id = ? AND modality = 'dsm'",
                       (SCENE,)).fetchone()
    assert tuple(row)[:4] == (144_000_000, 0, 0, 500) and row["mean"] == pytest.approx(500 * 65536 / 144_000_000, rel=1e-12)
    error = conn.execute("SELECT stage, message FROM ingest_errors WHERE path LIKE '%_cgls.tif'").fetchone()
    assert error["stage"] == "statistics" and "would hold 549 MiB (limit 512 MiB)" in error["message"]
    assert conn.execute("SELECT stats FROM files WHERE scene_id = ? AND modality = 'cgls'", (SCENE,)).fetchone()[0] == 0
    print(f"ingest peak RSS {rss:.0f} MiB", file=sys.stderr)
    assert rss < 300, f"the ingest's peak RSS was {rss:.0f} MiB"


@contextlib.contextmanager
def big_s2(db, tmp_path, size):
    """Scene SCENE's S2 file in the catalog `db` replaced, while the block runs, by a sparse
    `size` px raster of 13 bands: B8 (band 8) 3000, the other reflectance bands 1000,
    cloud_probability 0 in the first block; reflectance 0 (tagged no data) elsewhere."""
    big = tmp_path / "big_s2.tif"
    sparse_raster(big, size, gdal.GDT_UInt16, block_values=[3000 if b == 8 else 1000 for b in range(1, 13)] + [0],
                  nodata=range(1, 13))
    root = connect(db).execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]
    link = os.path.join(root, "train", "big_s2.tif")
    os.replace(big, link)
    try:
        conn = connect(db)
        conn.execute("UPDATE files SET path = 'train/big_s2.tif', width = ?, height = ? WHERE scene_id = ? AND modality = 's2'",
                     (size, size, SCENE))
        conn.execute("DELETE FROM files WHERE scene_id = ? AND modality = 's1'", (SCENE,))
        conn.commit()
        yield
    finally:
        os.unlink(link)


def test_large_requests_are_refused_before_allocating_and_whole_scene_reads_stream(tp_db_copy, tmp_path):
    size = 8000  # 1.5 GiB decoded, 12 GiB as f64
    with big_s2(tp_db_copy, tmp_path, size):
        queries = [
            f"SELECT s12_window({SCENE}, 's2', '*', 0, 0, {size}, {size});",
            f"SELECT s12_pixels.value FROM s12_pixels({SCENE}, 's2', 0, 0, {size}, {size}) LIMIT 1;",
            f"SELECT length(s12_png({SCENE}, 'rgb', 0, 0, {size}, {size}));",
            f"SELECT count(*) FROM s12_patches({SCENE}, 1, 1);",
            f"SELECT round(s12_index_mean({SCENE}, 'ndvi'), 6);",
            f"SELECT count(*), sum(nodata_fraction = 1) FROM s12_patches({SCENE});",
        ]
        result, rss = peak_rss(["/usr/bin/sqlite3", tp_db_copy], stdin=f".load {EXT}\n" + "\n".join(queries), env={"GDAL_CACHEMAX": "64"})
    errors = result.stderr
    assert f"s12_window: window of {size} x {size} px x 13 bands is over the limit of 67108864 values" in errors, errors
    assert "s12_pixels: " in errors and "over the limit of 4194304" in errors, errors
    assert "s12_png: " in errors and "over the limit of 4194304" in errors, errors
    assert "s12_patches: 64000000 patches of 1 px at stride 1 is over the limit of 1048576" in errors, errors
    # NDVI (3000 - 1000) / 4000 in the first block, no data elsewhere. The default grid is 32 x 32
    # patches (stride 249): the 4 at columns and rows 0 and 249 overlap the block, 1020 are empty.
    assert result.stdout.split() == ["0.5", "1024|1020"], result.stdout
    print(f"extension peak RSS {rss:.0f} MiB reading a {size} x {size} x 13 raster", file=sys.stderr)
    assert rss < 300, f"the extension's peak RSS was {rss:.0f} MiB"


def shell(db, sql, env):
    return subprocess.run(["/usr/bin/sqlite3", str(db), f".load {EXT}", sql], capture_output=True, text=True, env=env)


def test_table_functions_stream_their_rows_reading_only_what_each_needs(big_db):
    """The first rows of s12_patches and s12_pixels come after reading only the raster rows they
    cover: under a read limit of ten rows of patches (two chunks of pixels) the first rows come, and
    the whole table, which would read more, is refused by the same limit."""
    scene = connect(big_db).execute("SELECT scene_id FROM files WHERE modality = 's2'").fetchone()[0]
    bands = connect(big_db).execute("SELECT sum(band_count) FROM files WHERE scene_id = ? AND modality IN "
                                    "('s1', 's2', 'worldcover')", (scene,)).fetchone()[0]
    row_of_patches = 16 * 2000 * bands  # 16 px patches at stride 2: 993 rows of them
    env = dict(os.environ, SEN12LITE_MAX_READ_VALUES=str(10 * row_of_patches))
    first = shell(big_db, f"SELECT count(*) FROM (SELECT * FROM s12_patches({scene}, 16, 2) LIMIT 2000)", env)
    assert first.stdout == "2000\n", first.stderr  # two rows of 993 patches and one more
    whole = shell(big_db, f"SELECT count(*) FROM s12_patches({scene}, 16, 2)", env)
    assert "s12_patches: the statement would read" in whole.stderr and "SEN12LITE_MAX_READ_VALUES" in whole.stderr
    chunk = 32 * 2000 * 13  # s12_pixels reads 32 rows of the window at a time
    env = dict(os.environ, SEN12LITE_MAX_READ_VALUES=str(2 * chunk))
    first = shell(big_db, f"SELECT count(*) FROM (SELECT * FROM s12_pixels({scene}, 's2', 0, 0, 2000, 150) LIMIT 100000)", env)
    assert first.stdout == "100000\n", first.stderr
    whole = shell(big_db, f"SELECT count(*) FROM s12_pixels({scene}, 's2', 0, 0, 2000, 150)", env)
    assert "s12_pixels: the statement would read" in whole.stderr


BATCH_HOST = os.path.join(os.path.dirname(__file__), "batch_host.py")


def test_a_large_batch_holds_its_result_twice_at_most_and_no_decoded_tiles(tp_db_copy, tmp_path):
    """One s12_batch of 240 windows (a 390 MiB result) in a Python host with GDAL's block cache as
    the extension sets it (512 MB): SQLite's copy and Python's `bytes` are the only copies (SQLite
    does not copy it into the row), and the tiles GDAL decoded for it (as many bytes again) leave
    the block cache as the batch goes. The host's peak stays within 2.2x the result + 150 MB, and
    the connection frees the result once the client is done with it and calls a function again."""
    windows = [(256 * (i % 30), 256 * (i // 30)) for i in range(240)]
    values = ", ".join(f"({k}, {col}, {row})" for k, (col, row) in enumerate(windows))
    sql = (f"WITH w(k, c, r) AS (VALUES {values}) SELECT s12_batch({SCENE}, 's2', '*', c, r, 256, 256) "
           "FROM (SELECT * FROM w ORDER BY k)")
    with big_s2(tp_db_copy, tmp_path, 8000):
        env = {k: v for k, v in os.environ.items() if k != "GDAL_CACHEMAX"}
        then = f"SELECT s12_window({SCENE}, 's2', 'B4', 0, 0, 1, 1)"
        out = subprocess.run(["/usr/bin/python3", BATCH_HOST, str(tp_db_copy), EXT, sql, then], capture_output=True,
                             text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    size, before_kib, peak_kib, *firsts, after_kib = map(int, out.stdout.split())
    # The first window is the raster's first block (bands 1 and 8: 1000 and 3000), the next is empty.
    assert firsts == [1000, 3000, 0, 0]
    result_mib, peak_mib = size / MIB, peak_kib / 1024
    print(f"s12_batch of {result_mib:.0f} MiB: the host's peak {peak_mib:.0f} MiB (before {before_kib / 1024:.0f})",
          file=sys.stderr)
    assert peak_mib <= 2.2 * result_mib + 150, (result_mib, peak_mib)
    # What stays: GDAL's cached tiles (at most an eighth of the result + 64 MB), not the result.
    assert (after_kib - before_kib) / 1024 < result_mib / 2, (result_mib, after_kib / 1024)
