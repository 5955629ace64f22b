"""examples/train_loader.py: the batches hold every patch of the query once, each equal to GDAL's
read of the same window of the file."""
import importlib.util
import sys

import numpy as np
from osgeo import gdal

from conftest import EXT, ROOT
from oracles import path_of

gdal.UseExceptions()
QUERY = """SELECT s.scene_id, p.col, p.row FROM scenes s, s12_patches(s.scene_id, 64, 64) p
           WHERE s.has_files AND p.nodata_fraction = 0"""


def loader():
    spec = importlib.util.spec_from_file_location("train_loader", ROOT / "examples" / "train_loader.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_loader"] = module  # the workers' functions are pickled by module name
    spec.loader.exec_module(module)
    module.EXT = EXT
    return module


def test_the_loader_yields_every_patch_once_as_gdal_reads_it(tp_db):
    train_loader = loader()
    todo = train_loader.patches(str(tp_db), QUERY)
    assert len(todo) > 20
    seen = []
    for array in train_loader.batches(str(tp_db), todo, batch=8, workers=2, seed=1, size=64):
        assert array.dtype == np.uint16 and array.shape[1:] == (13, 64, 64) and len(array) <= 8
        seen.extend(array)
    assert len(seen) == len(todo)
    # The shuffle is the seed's permutation: the i-th array is the permuted i-th patch.
    order = np.random.default_rng(1).permutation(len(todo))
    conn = train_loader._conn
    for array, i in zip(seen, order):
        scene, col, row = todo[i]
        dataset = gdal.Open(path_of(conn, scene, "s2"))
        assert np.array_equal(array, dataset.ReadAsArray(col, row, 64, 64))
