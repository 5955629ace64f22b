"""make bench: what reading SEN12MS straight from a .tar.gz costs, against the unpacked tree, in one run.

One tree (BENCH_ARCHIVE_TRIPLETS 256 px triplets, about 1 GB) is synthesized once into
bench-data/, and packed once into one .tar.gz (gzip level 6, as `tar czf`). Timed, each the best of
three in fresh processes:
- the ingest of the archive folder against the ingest of the unpacked tree (`--no-checksums`);
- the first `s12_window` of a whole 256 px S2 patch from the member nearest the end of the archive,
  in a new sqlite3 shell (GDAL must find the member in the compressed stream), against the same
  window from the unpacked file.
"""
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = os.environ.get("S12_BIN", str(ROOT / "target/release/sen12lite"))
EXT = str(ROOT / "dist" / "sen12lite")
DATA = ROOT / "bench-data" / "sen12ms-archive"
TRIPLETS = int(os.environ.get("BENCH_ARCHIVE_TRIPLETS", "600"))
RUNS = 3


def best_of(command, env=None):
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, **(env or {})})
        times.append(time.perf_counter() - start)
    return min(times)


def prepare():
    tree, archive = DATA / "tree", DATA / "archives" / "sen12ms.tar.gz"
    if not archive.exists():
        shutil.rmtree(DATA, ignore_errors=True)
        print(f"bench: synthesizing {TRIPLETS} SEN12MS triplets and packing them into one .tar.gz (once)")
        subprocess.run([BIN, "synth", tree, "--layout", "sen12ms", "--scenes", str(TRIPLETS)], check=True,
                       stdout=subprocess.DEVNULL)
        archive.parent.mkdir(parents=True)
        partial = archive.with_suffix(".partial")
        with tarfile.open(partial, "w:gz", compresslevel=6) as packed:
            for folder in sorted(p for p in tree.iterdir() if p.is_dir()):
                packed.add(folder, arcname=folder.name)
        partial.rename(archive)
    return tree, archive


def main():
    tree, archive = prepare()
    with tempfile.TemporaryDirectory() as scratch:
        def ingest(folder, name):
            db = Path(scratch) / f"{name}.db"
            return [BIN, "ingest", folder, "--db", db, "--no-checksums"], db

        def fresh_ingest(folder, name):
            command, db = ingest(folder, name)
            start_over = ["sh", "-c", f"rm -f {db} {db}-wal {db}-shm && \"$0\" \"$@\"", *map(str, command)]
            return best_of(start_over), db

        archive_s, archive_db = fresh_ingest(archive.parent, "archive")
        plain_s, plain_db = fresh_ingest(tree, "plain")
        mb = archive.stat().st_size / 1e6
        print(f"ingest from one {mb:.0f} MB .tar.gz: {archive_s:.2f} s, unpacked tree: {plain_s:.2f} s "
              f"-> {archive_s / plain_s:.2f}x")
        last = subprocess.run(["sqlite3", archive_db, "SELECT scene_id FROM files WHERE modality = 's2' "
                               "ORDER BY path DESC LIMIT 1"], capture_output=True, text=True, check=True).stdout.strip()
        window = f"SELECT length(s12_window({last}, 's2', '*', 0, 0, 256, 256))"
        from_archive = best_of(["/usr/bin/sqlite3", archive_db, f".load {EXT}", window], {"SEN12LITE_READ_ARCHIVES": "1"})
        from_file = best_of(["/usr/bin/sqlite3", plain_db, f".load {EXT}", window])
        print(f"first 256 px S2 window of the last member, new process: from the .tar.gz {from_archive * 1000:.0f} ms, "
              f"unpacked {from_file * 1000:.0f} ms -> {from_archive / from_file:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
