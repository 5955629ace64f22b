"""From a SQL query to training batches: a map-style dataset over the patches a query names.

    from sen12lite.loader import SqlPatchDataset
    ds = SqlPatchDataset("catalog.db", "SELECT scene_id, col, row FROM ...", "s2", "B4,B3,B2,B8",
                         size=256, normalize="p02_p98", mask=("worldcover", 1))
    ds[0]["image"].shape                       # (4, 256, 256), float32 when normalized
    for batch in ds.batches(32, epoch=3, seed=0, rank=0, world_size=1):
        batch["image"].shape                   # (32, 4, 256, 256), read by one s12_batch call

numpy only; torch is optional. `ds[i]` returns a dict of numpy arrays, which torch's default
collate turns into tensors, so the dataset works as a torch map-style Dataset with a DataLoader
(workers included). Each process (forked DataLoader workers too) opens its own connection, lazily.
"""

import json
import os

import numpy as np

import sen12lite

NORMALIZATIONS = ("p02_p98", "mean_std")


class SqlPatchDataset:
    """The samples are the rows of `query`, which must have the columns `scene_id`, `col` and `row`
    (the window's top-left pixel); each sample is the `size` px window of `bands` of `modality`."""

    def __init__(self, catalog, query, modality, bands, size=256, normalize=None, mask=None):
        if normalize not in (None, *NORMALIZATIONS):
            raise ValueError(f"SqlPatchDataset: normalize must be None, 'p02_p98' or 'mean_std', got {normalize!r}")
        self.catalog, self.modality, self.bands, self.size = str(catalog), modality, bands, int(size)
        self.mask = mask
        self._conn, self._pid = None, None
        cursor = self._connection().execute(query)
        columns = [d[0] for d in cursor.description]
        missing = [c for c in ("scene_id", "col", "row") if c not in columns]
        if missing:
            raise ValueError(f"SqlPatchDataset: the query's rows have no column {', '.join(missing)} "
                             f"(they have {', '.join(columns)}); name the samples with scene_id, col, row")
        at = [columns.index(c) for c in ("scene_id", "col", "row")]
        self.rows = [tuple(r[i] for i in at) for r in cursor.fetchall()]
        self._scale = self._normalization(normalize) if normalize else None

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self._read([self.rows[i]], single=True)

    def batches(self, batch_size, epoch=0, seed=0, rank=0, world_size=1, drop_last=False):
        """Yields {"image": (N, C, H, W)} (and "mask") in a permutation of the samples fixed by
        (seed, epoch); rank `rank` of `world_size` gets every world_size-th of it, and inside a torch
        DataLoader worker the rank's share is split again by worker: together they cover every
        sample once."""
        order = np.random.default_rng([seed, epoch]).permutation(len(self.rows))
        shard, shards = _shard(rank, world_size)
        mine = [self.rows[i] for i in order[shard::shards]]
        for start in range(0, len(mine), batch_size):
            chunk = mine[start:start + batch_size]
            if drop_last and len(chunk) < batch_size:
                return
            yield self._read(chunk)

    def batch(self, indices):
        """The samples at `indices` as one batch {"image": (N, C, H, W)} (and "mask"), in that order."""
        return self._read([self.rows[i] for i in indices])

    def __getstate__(self):
        """Pickled (to a Dask worker, a spawned DataLoader worker) without its connection: the
        receiving process opens its own."""
        return {**self.__dict__, "_conn": None, "_pid": None}

    def _connection(self):
        if self._conn is None or self._pid != os.getpid():  # never a parent's connection after a fork
            self._conn, self._pid = sen12lite.connect(self.catalog), os.getpid()
        return self._conn

    def _read(self, samples, single=False):
        image = self._batch(samples, self.modality, self.bands)
        if self._scale is not None:
            offset, scale = self._scale
            image = (image.astype(np.float32) - offset) / scale
        out = {"image": image[0] if single else image}
        if self.mask is not None:
            modality, band = self.mask
            mask = self._batch(samples, modality, str(band))[:, 0]
            out["mask"] = mask[0] if single else mask
        return out

    def _batch(self, samples, modality, bands):
        """One s12_batch call over `samples`; its errors name the sample's row of the query."""
        values = ", ".join("(?, ?, ?, ?)" for _ in samples)
        sql = (f"WITH s(k, scene_id, col, row) AS (VALUES {values}) "
               "SELECT s12_batch(scene_id, ?, ?, col, row, ?, ?) FROM (SELECT * FROM s ORDER BY k)")
        arguments = [x for k, sample in enumerate(samples) for x in (k, *sample)]
        try:
            blob = self._connection().execute(sql, (*arguments, modality, bands, self.size, self.size)).fetchone()[0]
        except Exception as e:  # the binding's own error type
            raise ValueError(f"SqlPatchDataset: {e}{_which(samples, str(e))}") from None
        return sen12lite.array(blob)

    def _normalization(self, how):
        """(offset, scale) per band, as (C, 1, 1) arrays, pooled by the catalog over the query's scenes."""
        scenes = sorted({r[0] for r in self.rows})
        ids = json.dumps(scenes)
        conn = self._connection()
        if how == "mean_std":
            stats = json.loads(conn.execute(
                "SELECT s12_normalization(value, ?, ?) FROM json_each(?)", (self.modality, self.bands, ids)).fetchone()[0])
            offset, scale = np.array(stats["mean"]), np.array(stats["std"])
        else:
            names = json.loads(conn.execute("SELECT s12_normalization(value, ?, ?) FROM json_each(?)",
                                            (self.modality, self.bands, ids)).fetchone()[0])["bands"]
            low, high = [], []
            for band in names:
                summary = json.loads(conn.execute(
                    "SELECT s12_band_summary(value, ?, ?, '[0.02, 0.98]') FROM json_each(?)",
                    (self.modality, band, ids)).fetchone()[0])
                low.append(summary["p02"])
                high.append(summary["p98"])
            offset, scale = np.array(low), np.array(high) - np.array(low)
        scale = np.where(scale > 0, scale, 1.0)
        return offset.astype(np.float32)[:, None, None], scale.astype(np.float32)[:, None, None]


def _which(samples, message):
    """', sample (scene_id, col, row) = ...' for an error of s12_batch that names a row."""
    marker = "row "
    if marker in message:
        digits = message.split(marker, 1)[1].split(":", 1)[0]
        if digits.isdigit() and 0 < int(digits) <= len(samples):
            return f" (the sample (scene_id, col, row) = {samples[int(digits) - 1]})"
    return ""


def _shard(rank, world_size):
    """(this reader's offset, the number of readers): the rank, split again by torch DataLoader worker."""
    if not 0 <= rank < world_size:
        raise ValueError(f"SqlPatchDataset.batches: rank must be in 0..{world_size - 1}, got {rank}")
    try:
        from torch.utils.data import get_worker_info
    except ImportError:
        return rank, world_size
    info = get_worker_info()
    if info is None:
        return rank, world_size
    return rank * info.num_workers + info.id, world_size * info.num_workers
