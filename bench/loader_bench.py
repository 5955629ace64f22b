"""make bench: `sen12lite.loader`'s `batches` against a torchgeo-style loop over the same samples,
on the same cores, in one run (issue "From a SQL query to a training batch").

- ours: `SqlPatchDataset(catalog, query, "s2", "*").batches(16)`: each batch one `s12_batch` call,
  whose threads read on every core;
- torchgeo-style: what a raster dataset's `__getitem__` does for a sample (rasterio opens the file,
  reads the 256 px window of every band, closes it), `np.stack` of 16 samples a batch; in one
  process, and in CORES forked processes that each build whole batches (a DataLoader with
  num_workers=CORES; the batch comes back through a pipe, as without torch's shared memory).
The goal is against the faster of the two. The samples: the authors' patch grid (256 px every
249 px) of every scene of bench-data/sen12tp (bench/ingest_bench.py), each contender in its own
shuffled order, best of ROUNDS. Runs in the wheel's Python (build/wheelhosts: rasterio).
"""
import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

import sen12lite
from sen12lite.cli import BINARY
from sen12lite.loader import SqlPatchDataset

sys.path.insert(0, str(Path(__file__).parent))
from timing import best_of  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "bench-data" / "sen12tp"
CORES = os.cpu_count() or 1
BATCH, ROUNDS, SIZE = 16, 3, 256
QUERY = "SELECT s.scene_id, p.col, p.row FROM scenes s, s12_patches(s.scene_id) p WHERE s.has_files"


def read_sample(job):
    """A torchgeo-style sample: open, read the window of every band, close."""
    path, col, row = job
    with rasterio.open(path) as source:
        return source.read(window=Window(col, row, SIZE, SIZE))


def read_batch(jobs):
    return np.stack([read_sample(job) for job in jobs])


def torchgeo_style(jobs, workers):
    batches = [jobs[start:start + BATCH] for start in range(0, len(jobs), BATCH)]
    if workers == 1:
        for batch in batches:
            read_batch(batch)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for _ in pool.imap(read_batch, batches):
            pass


def main(db):
    dataset = SqlPatchDataset(db, QUERY, "s2", "*", size=SIZE)
    conn = sen12lite.connect(db)
    root = conn.execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]
    paths = dict(conn.execute("SELECT scene_id, path FROM files WHERE modality = 's2'"))
    order = np.random.default_rng(1).permutation(len(dataset.rows))
    jobs = [(os.path.join(root, paths[scene]), col, row) for scene, col, row in (dataset.rows[i] for i in order)]
    scene, col, row = dataset.rows[0]
    assert np.array_equal(dataset[0]["image"], read_sample((os.path.join(root, paths[scene]), col, row))), \
        "the loader and rasterio read different values"

    def ours():
        for batch in dataset.batches(BATCH, epoch=0, seed=0):
            assert batch["image"].shape[1:] == (13, SIZE, SIZE)

    t_ours = best_of(ROUNDS, ours)
    t_one = best_of(ROUNDS, lambda: torchgeo_style(jobs, 1))
    t_pool = best_of(ROUNDS, lambda: torchgeo_style(jobs, CORES))
    n = len(jobs)
    print(f"sen12lite.loader batches over {n} shuffled 256 px S2 patches of 13 bands, batches of {BATCH}, "
          f"best of {ROUNDS} (patches/s):")
    rows = [("torchgeo-style (rasterio opens the file per sample), 1 process", t_one),
            (f"torchgeo-style (rasterio opens the file per sample), {CORES} processes", t_pool),
            (f"SqlPatchDataset.batches ({CORES} cores)", t_ours)]
    for label, seconds in rows:
        print(f"  {label + ':':<68} {n / seconds:6.1f}")
    print(f"  batches is {min(t_one, t_pool) / t_ours:.2f}x the faster loop  (goal >= 2x)")

if __name__ == "__main__":
    if not (DATA / "md5sums.txt").exists():
        sys.exit("bench: run bench/ingest_bench.py first (it synthesizes bench-data/)")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([str(BINARY), "ingest", str(DATA), "--db", f"{tmp}/bench.db"], check=True, capture_output=True)
        main(f"{tmp}/bench.db")
