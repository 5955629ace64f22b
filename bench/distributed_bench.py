"""make bench: the sharded ingest on a Dask LocalCluster against one ingest process, on the same
2 cores, in one run (sen12lite.distributed, issue "Beyond one machine").

- one process: `sen12lite ingest TREE --jobs CORES` (the machine's cores as threads);
- the cluster: a LocalCluster of CORES worker processes of one thread each (started once, before
  the clock: a cluster is up before a job is given to it), `sen12lite.distributed.ingest`, 4 shards
  per worker, each `ingest --shard K/N --jobs 1`, then `merge` on the client;
- merge alone, of those parts.
Runs in the wheel's Python (build/wheelhosts: Dask's distributed), with the wheel's own binary for
both, on the trees of bench/ingest_bench.py (bench-data/, in the page cache), --no-checksums, the
contenders in turn for ROUNDS rounds, best of each. Prints the per-file cost behind docs/scale.md's
estimate of a full SEN12MS ingest on N nodes.
"""
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from distributed import Client, LocalCluster

import sen12lite.distributed as s12d
from sen12lite.cli import BINARY

sys.path.insert(0, str(Path(__file__).parent))
from ingest_bench import CORES, ROUNDS, TREES, tree, warm  # noqa: E402

SEN12MS_FILES = 541_986
# Sharding deals out whole scenes: 10 scenes in 8 shards are lumps of 1 s each, which no engine
# evens out on 2 workers. More, smaller scenes show what the real 2319 do.
MANY_SCENES = ("sen12tp-many", "sen12tp", 48, 1000, [])


def single(data, folder):
    Path(f"{folder}/single.db").unlink(missing_ok=True)  # a new catalog each round: not an incremental rerun
    start = time.perf_counter()
    subprocess.run([str(BINARY), "ingest", str(data), "--db", f"{folder}/single.db", "--no-checksums",
                    "--jobs", str(CORES)], check=True, capture_output=True)
    return time.perf_counter() - start


def sharded(data, folder, client):
    shutil.rmtree(f"{folder}/sharded.db.parts", ignore_errors=True)
    Path(f"{folder}/sharded.db").unlink(missing_ok=True)
    start = time.perf_counter()
    s12d.ingest(data, f"{folder}/sharded.db", client, options=["--no-checksums"], log=lambda line: None)
    return time.perf_counter() - start


def merge_alone(folder):
    parts = sorted(Path(f"{folder}/sharded.db.parts").glob("*.db"))
    start = time.perf_counter()
    s12d.merge(f"{folder}/merged.db", parts)
    return time.perf_counter() - start, len(parts)


def main():
    started = time.perf_counter()
    with LocalCluster(n_workers=CORES, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        print(f"distributed: a LocalCluster of {CORES} workers started in {time.perf_counter() - started:.2f} s")
        for name, layout, scenes, size, extra in [*TREES, MANY_SCENES]:
            data = tree(name, layout, scenes, size, extra)
            files = sorted(data.rglob("*.tif"))
            with tempfile.TemporaryDirectory() as folder:
                ones, clusters = [], []
                for _ in range(ROUNDS):
                    warm(files)
                    ones.append(single(data, folder))
                    warm(files)
                    clusters.append(sharded(data, folder, client))
                merged, parts = min(merge_alone(folder) for _ in range(ROUNDS))
            one, cluster_time = min(ones), min(clusters)
            print(f"{name}: {len(files)} GeoTIFFs, {scenes} scenes of {size} px, best of {ROUNDS}, rounds in turn")
            print(f"  one ingest process, {CORES} threads:          {one:6.2f} s")
            print(f"  LocalCluster, {CORES} workers, {parts} shards + merge: {cluster_time:6.2f} s   "
                  f"{cluster_time / one:.2f}x (goal <= 1.2x)")
            print(f"  merge of the {parts} parts alone:              {merged:6.2f} s   "
                  f"{merged / one:.1%} of the ingest (goal <= 10 %)")
            if layout == "sen12ms":
                per_file = cluster_time * CORES / len(files)
                print(f"  per file and core: {per_file * 1000:.2f} ms; the {SEN12MS_FILES:,} files of SEN12MS on "
                      f"N 2-core nodes: {per_file * SEN12MS_FILES / 2 / 60:.0f} min / N (from the page cache)")


if __name__ == "__main__":
    main()
