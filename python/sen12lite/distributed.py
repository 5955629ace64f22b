"""Beyond one machine, on Dask distributed: a sharded ingest merged into one catalog, and the
patches of a query written as training shards by the workers.

    from distributed import Client, LocalCluster          # or dask-jobqueue's SLURMCluster, dask-kubernetes
    import sen12lite.distributed as s12d
    client = Client(LocalCluster(n_workers=2, threads_per_worker=1))
    s12d.ingest("/data/SEN12MS", "catalog.db", client)   # one `sen12lite ingest --shard K/N` per task
    s12d.patches("catalog.db", "SELECT scene_id, col, row FROM patches WHERE cloud_fraction = 0",
                 "shards/", client, bands="B4,B3,B2,B8", format="webdataset")

Dask is the engine (no scheduler of ours): the tasks run the wheel's own `sen12lite` command on the
workers, which must see the tree, the catalog and the output folder at the same paths (a shared file
system, as on Slurm and Kubernetes clusters). docs/scale.md shows the same calls on those clusters.
"""

import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import numpy as np

from sen12lite.cli import BINARY
from sen12lite.loader import SqlPatchDataset

__all__ = ["ingest", "merge", "patches"]

FORMATS = ("npy", "webdataset")
SHARDS_PER_THREAD = 4


def ingest(tree, db, client, shards=None, parts=None, jobs=1, options=(), resume=True, log=print):
    """Ingests `tree` into the catalog `db` as `shards` tasks on `client` (default: four per worker
    thread, so that Dask evens out shards of unequal work: a shard costs about 0.1 s more than its
    files, the SEN12TP metadata), each `sen12lite ingest TREE --db PART --shard K/N --jobs JOBS *OPTIONS` writing a part
    into `parts` (default: DB.parts/ beside the catalog), then merges the parts into `db` here.

    A shard's part appears only when the shard is done; with `resume` (the default) a rerun keeps
    the parts that are there and runs only the missing shards (one whose worker died). Tells `log`
    of each shard as it ends. Returns what `merge` printed."""
    tree = str(tree)
    db = Path(db).absolute()
    shards = shards or SHARDS_PER_THREAD * sum(client.nthreads().values())
    if shards < 1:
        raise ValueError(f"sen12lite.distributed.ingest: shards must be at least 1, got {shards}")
    folder = Path(parts) if parts else db.with_name(db.name + ".parts")
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder.absolute() / f"part-{k:04d}-of-{shards:04d}.db" for k in range(shards)]
    todo = [k for k in range(shards) if not (resume and paths[k].exists())]
    futures = [client.submit(_ingest_shard, tree, str(paths[k]), f"{k}/{shards}", jobs, list(options),
                             key=f"sen12lite-ingest-{k}-of-{shards}-{os.getpid()}", pure=False) for k in todo]
    _gather(futures, "ingest", log)
    return merge(db, paths)


def merge(db, parts):
    """`sen12lite merge DB PART…`: the parts of one sharded ingest joined into the catalog `db`."""
    result = subprocess.run([str(BINARY), "merge", str(db), *map(str, parts)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"sen12lite.distributed.merge: {result.stderr.strip()}")
    return result.stdout.strip()


def patches(db, query, out_dir, client, modality="s2", bands="B4,B3,B2,B8", size=256, normalize=None, mask=None,
            shard_size=256, format="npy", resume=True, log=print):
    """Writes the patches `query` names (rows with `scene_id, col, row`, as `SqlPatchDataset`
    takes them) into `out_dir` as shards of `shard_size` samples, one task each on `client`:
    `format="npy"` gives patches-NNNNN.npy (N, C, H, W), .mask.npy and .json (the samples);
    `"webdataset"` gives patches-NNNNN.tar with {scene}_{col}_{row}.image.npy, .mask.npy and .json
    per sample, as WebDataset reads them. Statistics for `normalize` are pooled over the whole query.
    A shard is written under a temporary name and renamed; with `resume` a rerun writes only the
    missing ones. Writes and returns the index (index.json)."""
    if format not in FORMATS:
        raise ValueError(f"sen12lite.distributed.patches: format must be 'npy' or 'webdataset', got {format!r}")
    if shard_size < 1:
        raise ValueError(f"sen12lite.distributed.patches: shard_size must be at least 1, got {shard_size}")
    dataset = SqlPatchDataset(db, query, modality, bands, size=size, normalize=normalize, mask=mask)
    out = Path(out_dir).absolute()
    out.mkdir(parents=True, exist_ok=True)
    shards = [(f"patches-{i:05d}", list(range(start, min(start + shard_size, len(dataset)))))
              for i, start in enumerate(range(0, len(dataset), shard_size))]
    todo = [(name, indices) for name, indices in shards if not (resume and (out / _marker(name, format)).exists())]
    shared = client.scatter(dataset, broadcast=True)
    futures = [client.submit(_write_shard, shared, str(out), name, indices, format,
                             key=f"sen12lite-patches-{name}-{os.getpid()}", pure=False) for name, indices in todo]
    _gather(futures, "patches", log)
    index = {"format": format, "modality": modality, "bands": bands, "size": size, "normalize": normalize,
             "mask": list(mask) if mask else None, "samples": len(dataset),
             "shards": [{"name": name, "samples": len(indices)} for name, indices in shards]}
    (out / "index.json").write_text(json.dumps(index, indent=1))
    return index


def _gather(futures, what, log):
    """Waits for every task, telling `log` of each; raises once all ended if any failed (the ones
    done are kept: a rerun with resume does the rest)."""
    from distributed import as_completed

    failed = []
    for done, future in enumerate(as_completed(futures), 1):
        try:
            log(f"{what}: {future.result()} ({done} of {len(futures)})")
        except Exception as error:  # a task's own error, raised here by Dask
            failed.append(str(error))
    if failed:
        raise RuntimeError(f"sen12lite.distributed.{what}: {len(failed)} of {len(futures)} tasks failed "
                           f"(rerun to do only those): " + "; ".join(failed))


def _ingest_shard(tree, part, shard, jobs, options):
    """On a worker: one shard's ingest into its part. Exit 1 with the part written is a shard with
    inputs that failed (in its ingest_errors); without the part, the shard did not end."""
    command = [str(BINARY), "ingest", tree, "--db", part, "--shard", shard, "--jobs", str(jobs), *options]
    result = subprocess.run(command, capture_output=True, text=True)
    if not Path(part).exists():
        raise RuntimeError(f"shard {shard} (exit {result.returncode}): {result.stderr.strip()}")
    return f"shard {shard}: {result.stdout.strip()}"


def _marker(name, format):
    """The file a shard writes last: when it is there, the shard is whole."""
    return f"{name}.npy" if format == "npy" else f"{name}.tar"


def _write_shard(dataset, out, name, indices, format):
    """On a worker: one shard of patches, each file written under a temporary name and renamed,
    the marker last."""
    batch = dataset.batch(indices)
    samples = [[int(v) for v in dataset.rows[i]] for i in indices]
    folder = Path(out)
    if format == "npy":
        _write_atomic(folder / f"{name}.json", json.dumps(samples).encode())
        if "mask" in batch:
            _write_atomic(folder / f"{name}.mask.npy", _npy(batch["mask"]))
        _write_atomic(folder / f"{name}.npy", _npy(batch["image"]))
    else:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for k, (scene_id, col, row) in enumerate(samples):
                key = f"{scene_id}_{col}_{row}"
                members = {"image.npy": _npy(batch["image"][k]), "json": json.dumps(
                    {"scene_id": scene_id, "col": col, "row": row}).encode()}
                if "mask" in batch:
                    members["mask.npy"] = _npy(batch["mask"][k])
                for extension, data in members.items():
                    info = tarfile.TarInfo(f"{key}.{extension}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        _write_atomic(folder / f"{name}.tar", buffer.getvalue())
    return f"{name}: {len(indices)} samples"


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _write_atomic(path, data):
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
