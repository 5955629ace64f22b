"""sen12lite.distributed on a real Dask LocalCluster (2 worker processes, 127.0.0.1 only, 8 shards), in the
wheel's Python: the sharded ingest gives the catalog one ingest gives (every table); a rerun after
a lost part runs that shard only; the patches a query names are written as .npy and WebDataset
shards that hold each sample once, with the pixels GDAL reads from the GeoTIFFs."""
import io
import json
import sqlite3
import subprocess
import tarfile
from contextlib import closing

import numpy as np
import pytest

from conftest import every_table, load
from oracles import gdal_window

CLUSTER = r'''
import json, sys
from pathlib import Path
from distributed import Client, LocalCluster
import sen12lite.distributed as s12d

if __name__ == "__main__":
    tree, db, out, query = sys.argv[1:5]
    logged = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        merged = s12d.ingest(tree, db, client, log=logged.append)
        first = len(logged)
        lost = sorted(Path(db + ".parts").glob("*.db"))[1]  # as if its worker had died before the rename
        lost.unlink()
        s12d.ingest(tree, db, client, log=logged.append)
        rerun = logged[first:]
        kept = {}
        for form in ("npy", "webdataset"):
            kept[form] = s12d.patches(db, query, f"{out}/{form}", client, bands="B4,B3,B2", size=64,
                                      mask=("worldcover", 1), shard_size=5, format=form, log=logged.append)
    print(json.dumps({"merged": merged, "first": logged[:first], "rerun": rerun, "lost": lost.name, "index": kept}))
'''

QUERY = "SELECT s.scene_id, p.col, p.row FROM scenes s, s12_patches(s.scene_id, 64, 64) p WHERE s.has_files ORDER BY 1, 3, 2"


@pytest.fixture(scope="module")
def ran(tp_tree, wheel_hosts, tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    script = folder / "cluster.py"
    script.write_text(CLUSTER)
    db, out = folder / "catalog.db", folder / "shards"
    result = subprocess.run([str(wheel_hosts / "bin" / "python"), str(script), str(tp_tree), str(db), str(out), QUERY],
                            capture_output=True, text=True, timeout=600, cwd=folder)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1]), db, out


def test_the_sharded_ingest_on_a_local_cluster_is_the_single_ingest(ran, tp_db):
    seen, db, _ = ran
    assert len(seen["first"]) == 8 and all(line.startswith("ingest: shard ") for line in seen["first"]), seen
    assert seen["merged"].startswith(f"merge: 8 parts into {db}: 2319 scenes"), seen["merged"]
    whole, merged = every_table(tp_db), every_table(db)
    for table in whole:
        assert merged[table] == whole[table], table


def test_a_rerun_after_a_lost_part_runs_that_shard_only(ran):
    seen, _, _ = ran
    shard = int(seen["lost"].split("-")[1])
    assert len(seen["rerun"]) == 1 and seen["rerun"][0].startswith(f"ingest: shard {shard}/8: ingest:"), seen


def windows(db, samples, modality, bands):
    """The oracle: each sample's window as GDAL reads it from the file the catalog names."""
    with closing(sqlite3.connect(db)) as conn:
        return np.stack([gdal_window(conn, scene, modality, bands, col, row, 64, 64) for scene, col, row in samples])


def test_the_npy_shards_hold_each_sample_once_with_the_pixels_rasterio_reads(ran, tp_db):
    seen, db, out = ran
    index = seen["index"]["npy"]
    with closing(load(tp_db)) as conn:
        expected = [tuple(r) for r in conn.execute(QUERY)]
    samples = [tuple(s) for shard in index["shards"] for s in json.loads((out / "npy" / f"{shard['name']}.json").read_text())]
    assert sorted(samples) == sorted(expected) and len(samples) == index["samples"] == len(expected) > 5
    image = np.concatenate([np.load(out / "npy" / f"{shard['name']}.npy") for shard in index["shards"]])
    mask = np.concatenate([np.load(out / "npy" / f"{shard['name']}.mask.npy") for shard in index["shards"]])
    assert image.shape == (len(samples), 3, 64, 64) and mask.shape == (len(samples), 64, 64)
    assert np.array_equal(image, windows(db, samples, "s2", [4, 3, 2]))
    assert np.array_equal(mask, windows(db, samples, "worldcover", [1])[:, 0])


def test_the_webdataset_shards_hold_the_same_samples_keyed_by_scene_col_row(ran):
    seen, _, out = ran
    index = seen["index"]["webdataset"]
    npy = {tuple(s): (image, mask)
           for shard in seen["index"]["npy"]["shards"]
           for s, image, mask in zip(json.loads((out / "npy" / f"{shard['name']}.json").read_text()),
                                     np.load(out / "npy" / f"{shard['name']}.npy"),
                                     np.load(out / "npy" / f"{shard['name']}.mask.npy"))}
    keys = []
    for shard in index["shards"]:
        with tarfile.open(out / "webdataset" / f"{shard['name']}.tar") as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
        for name in sorted(n for n in members if n.endswith(".json")):
            key = name[: -len(".json")]
            sample = json.loads(members[name])
            keys.append(key)
            assert key == f"{sample['scene_id']}_{sample['col']}_{sample['row']}"
            image, mask = npy[(sample["scene_id"], sample["col"], sample["row"])]
            assert np.array_equal(np.load(io.BytesIO(members[f"{key}.image.npy"])), image)
            assert np.array_equal(np.load(io.BytesIO(members[f"{key}.mask.npy"])), mask)
    assert len(keys) == len(set(keys)) == len(npy) == index["samples"]
    assert not list(out.rglob("*.tmp"))
