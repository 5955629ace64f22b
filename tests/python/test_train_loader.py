"""sen12lite.loader (the wheel's SqlPatchDataset), in the wheel's Python (pyenv's, whose sqlite3
cannot load extensions, numpy only, no torch): samples and batches equal GDAL's reads of the same
windows, the normalization is the catalog's pooled statistics, the epochs' orders are permutations
fixed by (seed, epoch), and ranks get disjoint shards that cover every sample once."""
import json
import subprocess

from conftest import WHEEL_HOSTS

QUERY = """SELECT s.scene_id, p.col, p.row FROM scenes s, s12_patches(s.scene_id, 64, 64) p
           WHERE s.has_files AND p.nodata_fraction = 0"""

SCRIPT = r"""
import json, sys
import numpy as np
import rasterio
from rasterio.windows import Window
from sen12lite.loader import SqlPatchDataset

catalog, query = sys.argv[1], sys.argv[2]
ds = SqlPatchDataset(catalog, query, "s2", "B4,B8", size=64, mask=("worldcover", 1))
conn = ds._connection()
root = conn.execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]


def file(scene, modality):
    path = conn.execute("SELECT path FROM files WHERE scene_id = ? AND modality = ?", (scene, modality)).fetchone()[0]
    return root + "/" + path


def oracle(scene, col, row):
    with rasterio.open(file(scene, "s2")) as s2, rasterio.open(file(scene, "worldcover")) as lc:
        return s2.read([4, 8], window=Window(col, row, 64, 64)), lc.read(1, window=Window(col, row, 64, 64))


def read_in_order(epoch, seed, rank, world):
    # The images the rank's batches yield, each checked against the oracle of the sample the
    # permutation of (seed, epoch) puts there; returns the rows, in order.
    rows = [ds.rows[i] for i in np.random.default_rng([seed, epoch]).permutation(len(ds))[rank::world]]
    images = [img for batch in ds.batches(4, epoch=epoch, seed=seed, rank=rank, world_size=world) for img in batch["image"]]
    ok = len(images) == len(rows) and all((img == oracle(*r)[0]).all() for img, r in zip(images, rows))
    return rows if ok else None


report = {"len": len(ds)}
sample = ds[5]
image, mask = oracle(*ds.rows[5])
report["item"] = sample["image"].shape == (2, 64, 64) and bool((sample["image"] == image).all() and (sample["mask"] == mask).all())
epoch0, epoch1 = read_in_order(0, 9, 0, 1), read_in_order(1, 9, 0, 1)
report["epochs"] = epoch0 is not None and epoch1 is not None and epoch0 != epoch1 and sorted(epoch0) == sorted(ds.rows)
shards = [read_in_order(0, 9, rank, 3) for rank in range(3)]
report["shards"] = all(s is not None for s in shards) and sorted(sum(shards, [])) == sorted(ds.rows)
scenes = sorted({r[0] for r in ds.rows})
stats = json.loads(conn.execute("SELECT s12_normalization(value, 's2', 'B4,B8') FROM json_each(?)",
                                (json.dumps(scenes),)).fetchone()[0])
mean, std = (np.array(stats[k], np.float32)[:, None, None] for k in ("mean", "std"))
normalized = SqlPatchDataset(catalog, query, "s2", "B4,B8", size=64, normalize="mean_std")[5]["image"]
report["mean_std"] = bool(np.allclose(normalized, (image.astype(np.float32) - mean) / std, rtol=1e-6))
stretched = SqlPatchDataset(catalog, query, "s2", "B4,B8", size=64, normalize="p02_p98")[5]["image"]
report["p02_p98"] = stretched.dtype == np.float32 and 0 < float(np.median(stretched)) < 1
# Inside a torch DataLoader worker (torch's get_worker_info, stood in for here: torch is not a
# dependency), a rank's share is split again by worker.
import types
worker = types.SimpleNamespace(num_workers=2, id=1)
sys.modules["torch"] = types.ModuleType("torch")
sys.modules["torch.utils"] = types.ModuleType("torch.utils")
sys.modules["torch.utils.data"] = types.SimpleNamespace(get_worker_info=lambda: worker)
# rank 1 of 2, worker 1 of 2: reader 1 * 2 + 1 = 3 of 4
by_worker = [ds.rows[i] for i in np.random.default_rng([9, 0]).permutation(len(ds))[3::4]]
in_worker = [img for batch in ds.batches(4, epoch=0, seed=9, rank=1, world_size=2) for img in batch["image"]]
report["workers"] = len(in_worker) == len(by_worker) and all(
    (img == oracle(*r)[0]).all() for img, r in zip(in_worker, by_worker))
for name in ("torch", "torch.utils", "torch.utils.data"):
    del sys.modules[name]
# A forked child (a DataLoader worker) opens its own connection and reads the same sample.
import os
parent_connection = ds._connection()
read, write = os.pipe()
child = os.fork()
if child == 0:
    same = bool((ds[5]["image"] == image).all()) and ds._connection() is not parent_connection
    os.write(write, b"1" if same else b"0")
    os._exit(0)
os.waitpid(child, 0)
report["fork"] = os.read(read, 1) == b"1"
for bad, args in [("no column", ("SELECT scene_id, 0 AS col FROM scenes", "s2", "B4")),
                  ("band", (query, "s2", "B99")),
                  ("off raster", (query.replace("p.col,", "p.col + 200 AS col,"), "s2", "B4"))]:
    try:
        dataset = SqlPatchDataset(catalog, *args, size=64)
        next(dataset.batches(len(dataset)))
        report[bad] = "no error"
    except ValueError as e:
        report[bad] = str(e)
print(json.dumps(report))
"""


def test_the_loader_reads_what_rasterio_reads_and_shuffles_and_shards_as_promised(tp_db, wheel_hosts):
    out = subprocess.run([WHEEL_HOSTS / "bin" / "python", "-c", SCRIPT, tp_db, QUERY], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["len"] > 20, report
    for check in ("item", "epochs", "shards", "workers", "fork", "mean_std", "p02_p98"):
        assert report[check] is True, (check, report)
    assert "rows have no column row" in report["no column"] and "name the samples with scene_id, col, row" in report["no column"]
    assert "s12_batch: row 1: band 'B99' is not in s2" in report["band"], report["band"]
    assert "outside the raster" in report["off raster"] and "the sample (scene_id, col, row) = (" in report["off raster"]
