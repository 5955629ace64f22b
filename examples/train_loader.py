"""A minimal training-data loader on a sen12lite catalog: an SQL query picks the patches, worker
processes read them with s12_window (each worker its own connection), batches come out as numpy
arrays. No deep-learning framework needed; a PyTorch `IterableDataset` can wrap `batches()`.
After `make demo`, with the wheel installed (`pip install dist/sen12lite-*.whl`: any Python 3.9+):

    python examples/train_loader.py demo-data/catalog.db 2 8

(catalog, workers, batch size). The query must return `scene_id, col, row` (one row per patch);
PATCHES below asks for the clean 256 px S2 patches of the authors' grid. Without the wheel it loads
dist/sen12lite (or $S12_EXT) into a Python whose sqlite3 can load extensions (Debian's
/usr/bin/python3).
"""
import functools
import io
import multiprocessing
import os
import sqlite3
import sys
import time

import numpy as np

EXT = os.environ.get("S12_EXT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dist", "sen12lite"))

PATCHES = """
    SELECT s.scene_id, p.col, p.row FROM scenes s, s12_patches(s.scene_id) p
    WHERE s.has_files AND p.cloud_fraction <= 0.001 AND p.nodata_fraction = 0
"""

_conn = None  # one connection per worker process, opened by `_open`


def _open(db):
    global _conn
    try:
        import sen12lite  # the wheel: a connection with the extension on any Python
    except ImportError:  # a checkout: dist/ into a Python whose sqlite3 can load extensions
        _conn = sqlite3.connect(db)
        _conn.enable_load_extension(True)
        _conn.load_extension(EXT)
        return
    _conn = sen12lite.connect(db)


def _read(patch, size=256, bands="*"):
    scene, col, row = patch
    blob = _conn.execute("SELECT s12_window(?, 's2', ?, ?, ?, ?, ?)", (scene, bands, col, row, size, size)).fetchone()[0]
    return np.load(io.BytesIO(blob))


def patches(db, query=PATCHES):
    """The (scene_id, col, row) rows of `query`, in the catalog `db`."""
    _open(db)
    return [tuple(r) for r in _conn.execute(query)]


def batches(db, patch_list, batch=16, workers=2, seed=0, size=256):
    """Yields arrays of shape (batch, bands, size, size) of the patches, shuffled with `seed`, read
    by `workers` forked processes; each opens its own connection (the parent's, used by `patches`,
    is never used in a child: sen12lite reopens files after a fork anyway)."""
    order = np.random.default_rng(seed).permutation(len(patch_list))
    shuffled = [patch_list[i] for i in order]
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_open, initargs=(db,)) as pool:
        for start in range(0, len(shuffled), batch):
            yield np.stack(pool.map(functools.partial(_read, size=size), shuffled[start:start + batch]))


def main():
    db = sys.argv[1]
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    todo = patches(db)
    start, count = time.perf_counter(), 0
    for array in batches(db, todo, batch, workers):
        count += len(array)
    seconds = time.perf_counter() - start
    print(f"{count} patches in {seconds:.2f} s: {count / seconds:.1f} patches/s with {workers} workers")


if __name__ == "__main__":
    main()
