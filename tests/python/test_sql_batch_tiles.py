"""s12_batch's and s12_window's own tile reading (src/raster/tiles.rs): a DEFLATE GeoTIFF in whole
little-endian values without a predictor is decompressed by libdeflate, not GDAL; every other file
is left to GDAL. Either way the windows are GDAL's reads of the same windows, across tile edges and
at the raster's edges, for each layout another tool may have written; `s12_debug()` in a fresh
process tells which way the file was read (the tiles it keeps), so a layout that silently fell back
to GDAL fails."""
import io
import re
import shutil
from contextlib import closing

import numpy as np
import pytest
from osgeo import gdal

from conftest import ingest_tree, load, shell, synth_tree
from oracles import gdal_window, path_of

SIZE = 600  # not a multiple of the tile size: partial tiles on the right and bottom edges
# Same-sized windows across tile corners, along the edges, and at the far corner.
WINDOWS = [(0, 0), (200, 200), (250, 0), (0, 250), (504, 504), (300, 504), (504, 17), (123, 45)]
WINDOW = 96

LAYOUTS = {
    # Read by sen12lite (True) or left to GDAL (False).
    "tiles of 256": (["COMPRESS=DEFLATE", "TILED=YES"], True),
    "tiles of 128 x 64, BigTIFF": (["COMPRESS=DEFLATE", "TILED=YES", "BLOCKXSIZE=128", "BLOCKYSIZE=64",
                                     "BIGTIFF=YES"], True),
    "strips of 7 rows, the last of 5": (["COMPRESS=DEFLATE", "BLOCKYSIZE=7"], True),
    "horizontal predictor": (["COMPRESS=DEFLATE", "TILED=YES", "PREDICTOR=2"], False),
    "big-endian": (["COMPRESS=DEFLATE", "TILED=YES", "ENDIANNESS=BIG"], False),
    "band-interleaved": (["COMPRESS=DEFLATE", "TILED=YES", "INTERLEAVE=BAND"], False),
    "LZW": (["COMPRESS=LZW", "TILED=YES"], False),
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """Two 600 px scenes, ingested; `originals` keeps their S2 files as synthesized."""
    tree = synth_tree(tmp_path_factory, "sen12tp", scenes=2, size=SIZE, seed=11)
    db = ingest_tree(tmp_path_factory, tree)
    with closing(load(db)) as conn:
        scenes = [r[0] for r in conn.execute("SELECT scene_id FROM scenes WHERE has_files ORDER BY scene_id")]
        paths = [path_of(conn, scene, "s2") for scene in scenes]
    originals = tmp_path_factory.mktemp("originals")
    for k, path in enumerate(paths):
        shutil.copy(path, originals / f"{k}.tif")
    return db, scenes, list(zip(paths, sorted(originals.iterdir())))


def rewrite(files, options):
    """Each S2 file rewritten by GDAL from its original with creation `options`."""
    for path, original in files:
        gdal.Translate(path, str(original), creationOptions=options)


def kept_tiles(db, sql):
    """Whether a fresh process (the sqlite3 shell) that ran `sql` keeps decompressed tiles."""
    code, out, err = shell(db, f"{sql}; SELECT s12_debug();")
    assert code == 0, err
    kept = re.search(r"^tiles kept: (\d+) \(\d+ bytes, this process\)$", out, re.M)
    return int(kept.group(1)) > 0


def batch_sql(rows, modality, bands, width, height):
    values = ", ".join(f"({k}, {scene}, {col}, {row})" for k, (scene, col, row) in enumerate(rows))
    return (f"WITH s(k, scene, col, row) AS (VALUES {values}) SELECT s12_batch(scene, '{modality}', '{bands}', col, "
            f"row, {width}, {height}) FROM (SELECT * FROM s ORDER BY k)")


def batch(conn, rows, modality, bands, width, height):
    return np.load(io.BytesIO(conn.execute(batch_sql(rows, modality, bands, width, height)).fetchone()[0]))


def assert_gdals_windows(conn, rows, modality, bands, numbers, size):
    result = batch(conn, rows, modality, bands, *size)
    assert result.shape == (len(rows), len(numbers), size[1], size[0])
    for sample, (scene, col, row) in zip(result, rows):
        np.testing.assert_array_equal(sample, gdal_window(conn, scene, modality, numbers, col, row, *size))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_gives_gdals_windows_and_is_read_the_way_it_says(tree, layout):
    db, scenes, files = tree
    options, ours = LAYOUTS[layout]
    rewrite(files, options)
    rows = [(scene, col, row) for col, row in WINDOWS for scene in scenes]
    with closing(load(db)) as conn:
        assert_gdals_windows(conn, rows, "s2", "*", list(range(1, 14)), (WINDOW, WINDOW))
        # Bands in another order, a subset, and the whole raster as one window.
        assert_gdals_windows(conn, rows[::3], "s2", "cloud_probability,B8,B2", [13, 8, 2], (WINDOW, WINDOW))
        assert_gdals_windows(conn, [(scenes[0], 0, 0)], "s2", "B4", [4], (SIZE, SIZE))
        for scene, col, row in rows[::2]:
            blob = conn.execute("SELECT s12_window(?, 's2', 'B8,B2,B4', ?, ?, ?, ?)",
                                (scene, col, row, WINDOW, WINDOW)).fetchone()[0]
            np.testing.assert_array_equal(np.load(io.BytesIO(blob)),
                                          gdal_window(conn, scene, "s2", [8, 2, 4], col, row, WINDOW, WINDOW))
    read_by = f"{layout}: read by {'GDAL' if ours else 'sen12lite'}"
    assert kept_tiles(db, f"SELECT length(({batch_sql(rows, 's2', '*', WINDOW, WINDOW)}))") == ours, read_by
    assert kept_tiles(db, f"SELECT length(s12_window({scenes[0]}, 's2', '*', 250, 250, 96, 96))") == ours, read_by


@pytest.mark.parametrize("modality, bands, numbers", [
    ("s1", "*", [1, 2, 3, 4, 5]),  # float32
    ("dsm", "DSM", [1]),  # one band of int16
    ("worldcover", "*", [1]),  # one band of bytes
])
def test_other_value_sizes_and_single_bands_give_gdals_windows(tree, modality, bands, numbers):
    db, scenes, _ = tree
    with closing(load(db)) as conn:
        rows = [(scene, col, row) for col, row in WINDOWS for scene in scenes]
        assert_gdals_windows(conn, rows, modality, bands, numbers, (WINDOW, WINDOW))
    assert kept_tiles(db, f"SELECT length(({batch_sql(rows, modality, bands, WINDOW, WINDOW)}))")


def test_a_missing_tile_is_left_to_gdal(tree):
    """A sparse file (a tile of nodata never written) reads as GDAL reads it: nodata there."""
    db, scenes, files = tree
    for path, original in files:
        values = gdal.Open(str(original)).ReadAsArray()
        values[:, :256, :256] = 0
        memory = gdal.GetDriverByName("MEM").CreateCopy("", gdal.Open(str(original)))
        memory.WriteArray(values)
        gdal.Translate(path, memory, creationOptions=["COMPRESS=DEFLATE", "TILED=YES", "SPARSE_OK=TRUE"])
    sparse = gdal.Open(files[0][0])  # kept while its band is used: the band does not hold it
    assert sparse.GetRasterBand(1).GetMetadataItem("BLOCK_OFFSET_0_0", "TIFF") is None
    with closing(load(db)) as conn:
        rows = [(scene, col, row) for col, row in WINDOWS for scene in scenes]
        assert_gdals_windows(conn, rows, "s2", "*", list(range(1, 14)), (WINDOW, WINDOW))


def test_a_damaged_tile_fails_with_the_row_and_file_and_the_rest_reads(tree):
    """A tile whose DEFLATE stream is damaged (its first block of an invalid type): libdeflate
    refuses it, so GDAL reads it and fails with its own error, named by the row; windows that do
    not touch it read as before."""
    db, scenes, files = tree
    rewrite(files, LAYOUTS["tiles of 256"][0])
    path = files[0][0]
    dataset = gdal.Open(path)  # kept while its band is used: the band does not hold it
    band = dataset.GetRasterBand(1)
    offset, size = (int(band.GetMetadataItem(f"BLOCK_{what}_1_1", "TIFF")) for what in ("OFFSET", "SIZE"))
    dataset = None
    with open(path, "r+b") as f:
        f.seek(offset + 2)  # after the zlib header
        f.write(b"\xff" * 64)
    damaged = f"(0, {scenes[1]}, 0, 0), (1, {scenes[0]}, 300, 300)"
    code, out, err = shell(db, f"WITH s(k, scene, col, row) AS (VALUES {damaged}) SELECT length(s12_batch(scene, 's2', "
                               "'*', col, row, 96, 96)) FROM (SELECT * FROM s ORDER BY k);")
    assert code == 1 and out == "", (code, out, err)
    assert re.search(r"s12_batch: row 2: .*s2\.tif", err), err
    with closing(load(db)) as conn:
        assert_gdals_windows(conn, [(scenes[0], 0, 0), (scenes[0], 504, 17)], "s2", "*", list(range(1, 14)),
                             (WINDOW, WINDOW))
