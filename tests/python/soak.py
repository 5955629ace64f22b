"""The project's soak tests (`make soak`: minutes, printing their figures; `tests/python/test_soak.py`
runs a short version of each inside `make test`):

- changing files: a GeoTIFF rewritten in place, replaced, truncated, turned into a directory or a
  symlink out of the data root while s12_window, s12_batch and s12_patches read it in a loop and
  while the ingest reads it: every result is one version's (equal to what GDAL reads from that
  version) or an SQL error naming the function; never a crash, never two versions in one result;
  the next ingest catalogues the file as it ends up;
- a long-running host: one process opens and closes connections and runs mixed calls over them:
  file descriptors flat, RSS growth after the warm-up printed and bounded;
- load: the public Datasette recipe under 16 concurrent clients after a warm-up: no 5xx, no dropped
  connection, refusals are 4xx naming the limit, RSS growth bounded, p50/p99 printed.

    /usr/bin/python3 tests/python/soak.py [--full]
"""
import io
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from conftest import BIN, EXT, ROOT, load  # noqa: E402
from oracles import gdal_window  # noqa: E402
from servers import Datasette  # noqa: E402

# Datasette with the wheel installed (its plugin serves the pictures and the patch grid).
WHEEL_HOSTS = ROOT / "build" / "wheelhosts"


def rss_mb(pid="self"):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def npy(blob):
    return np.load(io.BytesIO(blob))


# ---------------------------------------------------------------------------------------------
# Files that change while they are read

def valid_mean(path, band):
    """The mean of a band's pixels that are not its nodata, read by GDAL (no statistics computed by
    GDAL, which would write an .aux.xml beside the file)."""
    from osgeo import gdal

    raster = gdal.Open(str(path))  # held: GDAL 3.6's bindings free a band whose dataset is gone
    source = raster.GetRasterBand(band)
    values, nodata = source.ReadAsArray().astype(np.float64), source.GetNoDataValue()
    return float(values[values != nodata].mean() if nodata is not None else values.mean())


class Changer(threading.Thread):
    """Changes `path` in every way a file can change under a reader, until stopped: rewritten in
    place with the other version's bytes, replaced by rename, truncated, turned into a directory
    or a symlink to a file outside the data root, and back. Counts what it did."""

    def __init__(self, path, versions, outside):
        super().__init__(daemon=True)
        self.path, self.versions, self.outside = Path(path), versions, outside
        self.stop = threading.Event()
        self.done = {"rewritten": 0, "replaced": 0, "truncated": 0, "directory": 0, "symlink": 0}
        self.current = 0

    def run(self):
        rng = random.Random(1)
        while not self.stop.is_set():
            getattr(self, rng.choice(list(self.done)))()
            time.sleep(rng.uniform(0.001, 0.01))
        self.put(self.versions[self.current])

    def put(self, data):
        """Writes `data` over the file in place (same inode), as a copy or a download does."""
        with open(self.path, "r+b") as f:
            f.write(data)
            f.truncate(len(data))

    def rewritten(self):
        self.current = 1 - self.current
        self.put(self.versions[self.current])
        self.done["rewritten"] += 1

    def replaced(self):
        self.current = 1 - self.current
        temporary = self.path.with_name(self.path.name + ".new")
        temporary.write_bytes(self.versions[self.current])
        os.replace(temporary, self.path)
        self.done["replaced"] += 1

    def truncated(self):
        with open(self.path, "r+b") as f:
            f.truncate(len(self.versions[self.current]) // 2)
        time.sleep(0.003)
        self.put(self.versions[self.current])
        self.done["truncated"] += 1

    def away(self, stand_in):
        away = self.path.with_name(self.path.name + ".away")
        os.replace(self.path, away)
        stand_in()
        time.sleep(0.003)
        (os.rmdir if self.path.is_dir() and not self.path.is_symlink() else os.unlink)(self.path)
        os.replace(away, self.path)

    def directory(self):
        self.away(lambda: os.mkdir(self.path))
        self.done["directory"] += 1

    def symlink(self):
        self.away(lambda: os.symlink(self.outside, self.path))
        self.done["symlink"] += 1


def changing_files(tree, db, seconds, out=print):
    """The soak of files that change during reads, on a private copy `tree` and its catalog `db`.
    Returns the outcome counts; raises AssertionError on a mixed or wrong result."""
    with closing(sqlite3.connect(db)) as conn:
        root = conn.execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]
        (scene, path, width), (_, other, _) = conn.execute(
            "SELECT f.scene_id, f.path, f.width FROM files f WHERE modality = 's2' ORDER BY scene_id LIMIT 2").fetchall()
    path, other = Path(root) / path, Path(root) / other
    versions = [path.read_bytes(), other.read_bytes()]
    size = min(width, 128)
    window, quadrants = (0, 0, size, size), [(c, r, size // 2, size // 2) for r in (0, size // 2) for c in (0, size // 2)]
    expected = {"window": [], "batch": [], "patches": []}
    outside = Path(tempfile.mkdtemp()) / "outside.tif"
    outside.write_bytes(versions[1])
    with closing(load(db)) as conn:
        for k, data in enumerate(versions):
            path.write_bytes(data)
            expected["window"].append(gdal_window(conn, scene, "s2", [4, 3, 2], *window))
            expected["batch"].append(np.stack([gdal_window(conn, scene, "s2", [4, 3, 2], *q) for q in quadrants]))
            expected["patches"].append(conn.execute(PATCHES, (scene,)).fetchall())
        path.write_bytes(versions[0])
    assert not np.array_equal(expected["window"][0], expected["window"][1]), "the two versions have the same pixels"
    changer = Changer(path, versions, outside)
    outcomes, errors, lock = {}, {}, threading.Lock()

    def read(kind, sql, args, value):
        with closing(load(db)) as conn:
            deadline = time.time() + seconds
            while time.time() < deadline:
                try:
                    got = value(conn.execute(sql, args).fetchall())
                    version = next((k for k in (0, 1) if same(got, expected[kind][k])), None)
                    key = f"{kind}: version {version}" if version is not None else f"{kind}: NEITHER version"
                except sqlite3.Error as e:
                    message = str(e)
                    key = f"{kind}: error" if message.startswith(f"s12_{kind}: ") else f"{kind}: UNNAMED error"
                    with lock:
                        errors.setdefault(kind, set()).add(message.split(": ", 2)[-1][:90])
                with lock:
                    outcomes[key] = outcomes.get(key, 0) + 1

    readers = [
        threading.Thread(target=read, args=("window", "SELECT s12_window(?, 's2', 'B4,B3,B2', ?, ?, ?, ?)",
                                            (scene, *window), lambda rows: npy(rows[0][0]))),
        threading.Thread(target=read, args=("batch", BATCH, (scene, *[v for q in quadrants for v in q]),
                                            lambda rows: npy(rows[0][0]))),
        threading.Thread(target=read, args=("patches", PATCHES, (scene,), lambda rows: rows)),
    ]
    ingests = []
    changer.start()
    for reader in readers:
        reader.start()
    deadline = time.time() + seconds
    while time.time() < deadline:  # the ingest reading the same file meanwhile, again and again
        result = subprocess.run([BIN, "ingest", str(tree), "--db", str(db) + ".soak", "--no-checksums"],
                                capture_output=True, text=True)
        ingests.append(result.returncode)
    for reader in readers:
        reader.join()
    changer.stop.set()
    changer.join()
    out(f"changing files: {seconds} s, the file changed {sum(changer.done.values())} times {changer.done}")
    out(f"  reads: {dict(sorted(outcomes.items()))}")
    for kind, messages in sorted(errors.items()):
        out(f"  {kind} errors: {sorted(messages)}")
    assert not [key for key in outcomes if "NEITHER" in key or "UNNAMED" in key], outcomes
    # Each reader read whole results, and the windows (the quickest) saw both versions; how many
    # of each a slower reader sees depends on the machine's load, so it is printed, not asserted.
    assert all(outcomes.get(f"{kind}: version 0", 0) + outcomes.get(f"{kind}: version 1", 0) for kind in expected), \
        outcomes
    assert outcomes.get("window: version 0") and outcomes.get("window: version 1"), outcomes
    assert all(code in (0, 1) for code in ingests), ingests  # never a signal
    final = subprocess.run([BIN, "ingest", str(tree), "--db", str(db) + ".soak", "--no-checksums"],
                           capture_output=True, text=True)
    assert final.returncode in (0, 1), final.stderr
    catalogued = catalogued_mean(Path(str(db) + ".soak"), path.relative_to(root))
    truth = valid_mean(path, 4)
    assert abs(catalogued - truth) < 1e-6 * max(1, abs(truth)), (catalogued, truth)
    out(f"  ingests meanwhile: {len(ingests)} (exit codes {sorted(set(ingests))}); the next one catalogues the "
        f"final file: B4 mean {catalogued:.4f} = GDAL's")
    return outcomes


PATCHES = "SELECT col, row, cloud_fraction, nodata_fraction, ndvi_mean FROM s12_patches(?, 64, 64) ORDER BY row, col"
BATCH = ("WITH w(k, c, r, wd, h) AS (VALUES (1, ?2, ?3, ?4, ?5), (2, ?6, ?7, ?8, ?9), (3, ?10, ?11, ?12, ?13), "
         "(4, ?14, ?15, ?16, ?17)) SELECT s12_batch(?1, 's2', 'B4,B3,B2', c, r, wd, h) FROM (SELECT * FROM w ORDER BY k)")


def same(got, want):
    if isinstance(want, np.ndarray):
        return got.shape == want.shape and np.array_equal(got, want)
    return got == want


def catalogued_mean(db, relative):
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT b.mean FROM band_stats b JOIN files f USING (scene_id, modality) "
                            "WHERE f.path = ? AND b.band = 4", (str(relative),)).fetchone()[0]


# ---------------------------------------------------------------------------------------------
# Files that lie: mutants of valid GeoTIFFs

TAGS = {"width": 256, "height": 257, "bits": 258, "samples": 277, "sample_format": 339,
        "tile_width": 322, "tile_length": 323, "tile_offsets": 324, "tile_counts": 325,
        "strip_offsets": 273, "strip_counts": 279, "rows_per_strip": 278}
EXTREMES = [0, 1, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]


def ifd_entries(data):
    """(tag, type, count, offset of the value field) of a little-endian classic TIFF's first IFD,
    and the offset of its next-IFD pointer; None when the header is not that."""
    if data[:4] != b"II*\0":
        return None
    at = int.from_bytes(data[4:8], "little")
    if at + 2 > len(data):
        return None
    count = int.from_bytes(data[at:at + 2], "little")
    entries = []
    for i in range(count):
        e = at + 2 + 12 * i
        if e + 12 > len(data):
            return None
        entries.append((int.from_bytes(data[e:e + 2], "little"), int.from_bytes(data[e + 2:e + 4], "little"),
                        int.from_bytes(data[e + 4:e + 8], "little"), e + 8))
    return entries, at + 2 + 12 * count, at


def mutate(data, rng):
    """One mutant of `data` and what was done: bytes changed in the header or anywhere, cut short,
    grown, or a tag set to an extreme (dimensions, band count, sample format, tile and strip
    offsets and byte counts out of range), or the IFD made a loop."""
    out = bytearray(data)
    parsed = ifd_entries(data)
    how = rng.choice(["header bytes", "any bytes", "truncated", "grown", "tag", "tag", "tag", "ifd loop"])
    if how == "header bytes":
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(min(len(out), 1024))] = rng.randrange(256)
    elif how == "any bytes":
        for _ in range(rng.randint(1, 32)):
            out[rng.randrange(len(out))] = rng.randrange(256)
    elif how == "truncated":
        del out[rng.randrange(len(out)):]
    elif how == "grown":
        out += bytes(rng.randrange(256) for _ in range(rng.randint(1, 4096)))
    elif parsed and how == "tag":
        entries, _, _ = parsed
        known = [e for e in entries if e[0] in TAGS.values()]
        tag, kind, count, field = rng.choice(known)
        value = rng.choice(EXTREMES)
        if count > 1 and kind in (3, 4, 16):  # an array elsewhere in the file: change one element
            where = int.from_bytes(out[field:field + 4], "little")
            size = 2 if kind == 3 else 4 if kind == 4 else 8
            index = where + size * rng.randrange(count)
            if index + size <= len(out):
                out[index:index + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        else:
            out[field:field + (2 if kind == 3 else 4)] = (value & (0xFFFF if kind == 3 else 0xFFFFFFFF)).to_bytes(
                2 if kind == 3 else 4, "little")
        how = f"tag {tag} = {value}"
    elif parsed:  # the IFD's next pointer back at itself
        _, next_at, start = parsed
        out[next_at:next_at + 4] = start.to_bytes(4, "little")
        how = "ifd loop"
    return bytes(out), how.split(" =")[0]


def limited(megabytes):
    """A preexec_fn capping the child's address space."""
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))
    return cap


CALLS = {
    "s2": ["SELECT length(s12_window({id}, 's2', '*', 0, 0, 16, 16));", "SELECT s12_index_mean({id}, 'ndvi');",
           "SELECT length(s12_png({id}, 'rgb'));"],
    "s1": ["SELECT length(s12_window({id}, 's1', '*', 0, 0, 16, 16));", "SELECT length(s12_png({id}, 'vv', 0, 0, 16, 16));",
           "SELECT s12_value({id}, 's1', 'VV', 8, 8);"],
    "lc": ["SELECT length(s12_window({id}, 'lc', '*', 0, 0, 16, 16));", "SELECT length(s12_png({id}, 'igbp'));",
           "SELECT s12_pixel({id}, 'lc', 1, 3, 3);"],
}
COMMON = ["SELECT s12_stats({id}, '{m}', 1);", "SELECT count(*) FROM s12_patches({id}, 16, 16);",
          "SELECT count(*) FROM s12_pixels({id}, '{m}', 0, 0, 4, 4);",
          "SELECT length(s12_batch({id}, '{m}', '1', 0, 0, 8, 8));", "SELECT s12_zonal({id}, '{m}', 1, "
          "(SELECT footprint FROM scenes WHERE scene_id = {id}));"]


def shell_errors(stderr):
    """The sqlite3 shell's error messages, a message's continuation lines (GDAL's own message may
    hold a newline) joined to it."""
    errors = []
    for line in stderr.splitlines():
        if line.startswith(("Runtime error", "Parse error", "Error:")) or not errors:
            errors.append(line)
        else:
            errors[-1] += "\n" + line
    return errors


def lying_files(folder, count, out=print, memory_mb=2048):
    """`count` mutants of SEN12MS's s1, s2 and lc files through the ingest and 8 pixel-reading calls
    each, in processes capped at `memory_mb` of address space. Returns the figures."""
    folder = Path(folder)
    seeds = folder / "seeds"
    subprocess.run([BIN, "synth", seeds, "--layout", "sen12ms", "--scenes", "3", "--size", "32"], check=True,
                   capture_output=True)
    originals = {kind: sorted(seeds.rglob(f"*_{kind}_*.tif")) for kind in ("s1", "s2", "lc")}
    tree = folder / "mutants"
    rng = random.Random(2026)
    hows, kinds, mutants = {}, {}, {}
    for k in range(count):
        kind = ("s1", "s2", "lc")[k % 3]
        original = rng.choice(originals[kind]).read_bytes()
        data, how = mutate(original, rng)
        hows[how] = hows.get(how, 0) + 1
        scene, patch = 100 + k // 9000, k % 9000 + 1
        path = tree / "ROIs1158_spring" / f"{kind}_{scene}" / f"ROIs1158_spring_{kind}_{scene}_p{patch}.tif"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(original)  # first as it was: the catalog of the readers' phase believes it
        kinds[str(path.relative_to(tree))], mutants[path] = kind, data
    believing = folder / "believing.db"
    subprocess.run([BIN, "ingest", tree, "--db", believing, "--no-checksums"], check=True, capture_output=True)
    for path, data in mutants.items():
        path.write_bytes(data)
    # The ingest of the mutants: each is catalogued or an error row, and nothing dies.
    db = folder / "mutants.db"
    started = time.perf_counter()
    ingest = subprocess.run([BIN, "ingest", tree, "--db", db, "--no-checksums", "--quicklooks", "all"],
                            capture_output=True, text=True, preexec_fn=limited(memory_mb), timeout=3600)
    ingest_s = time.perf_counter() - started
    assert ingest.returncode in (0, 1), (ingest.returncode, ingest.stderr[-2000:])
    with closing(sqlite3.connect(db)) as conn:
        catalogued = {r[0] for r in conn.execute("SELECT path FROM files")}
        recorded = {r[0] for r in conn.execute("SELECT path FROM ingest_errors")}
    unaccounted = [p for p in kinds if p not in catalogued and p not in recorded]
    assert not unaccounted, unaccounted[:5]
    # The readers, on a catalog that believes every file: each mutant meets every call.
    with closing(sqlite3.connect(believing)) as conn:
        believed = conn.execute("SELECT path, scene_id FROM files").fetchall()
    script = [sql.format(id=scene_id, m=kinds[path]) for path, scene_id in believed
              for sql in CALLS[kinds[path]] + COMMON]
    script.append("SELECT 'the shell is alive';")
    started = time.perf_counter()
    shell = subprocess.run(["/usr/bin/sqlite3", str(believing)], input="\n".join([f".load {EXT}", *script]),
                           capture_output=True, text=True, preexec_fn=limited(memory_mb), timeout=3600,
                           env={**os.environ, "SEN12LITE_MAX_STATEMENT_MS": "10000"})
    calls_s = time.perf_counter() - started
    errors = shell_errors(shell.stderr)
    assert shell.returncode in (0, 1) and shell.stdout.rstrip().endswith("the shell is alive"), \
        (shell.returncode, shell.stderr[-2000:])
    unnamed = [e for e in errors if "s12_" not in e.split(": ", 1)[-1][:40]]
    assert not unnamed, unnamed[:5]
    out(f"lying files: {count} mutants {dict(sorted(hows.items()))}; ingest (address space capped at {memory_mb} MB) "
        f"in {ingest_s:.0f} s, exit {ingest.returncode}: {len(catalogued)} catalogued, {len(recorded)} error rows, "
        f"0 unaccounted")
    out(f"  {len(script) - 1} pixel-reading calls on all of them (a catalog of the files before they changed) in "
        f"{calls_s:.0f} s: "
        f"{len(script) - 1 - len(errors)} values, {len(errors)} SQL errors naming their function, the shell alive")
    return {"catalogued": len(catalogued), "recorded": len(recorded), "calls": len(script) - 1, "errors": len(errors)}


# ---------------------------------------------------------------------------------------------
# A long-running host

def long_running_host(db, connections, calls, out=print):
    """Opens `connections` connections one after another and runs `calls` mixed calls over them;
    returns (fd growth, RSS growth in MB after the first tenth)."""
    with closing(sqlite3.connect(db)) as conn:
        scenes = [r[0] for r in conn.execute("SELECT scene_id FROM scenes WHERE has_files ORDER BY scene_id")]
    rng = random.Random(7)
    mixed = [
        ("SELECT length(s12_window(?, 's2', 'B4,B8', 8, 8, 32, 32))", lambda s: (s,)),
        ("SELECT s12_index_mean(?, 'ndvi', 0, 0, 64, 64)", lambda s: (s,)),
        ("SELECT s12_pixel(?, 's1', 'VV', 10, 10)", lambda s: (s,)),
        ("SELECT count(*) FROM s12_patches(?, 64, 64)", lambda s: (s,)),
        ("SELECT length(s12_png(?, 'rgb', 0, 0, 48, 48))", lambda s: (s,)),
        ("SELECT s12_stats(?, 's1', 'VV', 0, 0, 40, 40)", lambda s: (s,)),
        ("SELECT length(s12_window(?, 's2', 'B99', 0, 0, 8, 8))", lambda s: (s,)),  # an error, every time
    ]
    per_connection = max(1, calls // connections)
    fds, rss, errors, done = None, None, 0, 0
    started = time.perf_counter()
    for n in range(connections):
        with closing(load(db)) as conn:
            for _ in range(per_connection):
                sql, args = rng.choice(mixed)
                try:
                    conn.execute(sql, args(rng.choice(scenes))).fetchall()
                except sqlite3.Error as e:
                    assert str(e).startswith("s12_"), e
                    errors += 1
                done += 1
        if n == connections // 10:
            fds, rss = open_fds(), rss_mb()
    fd_growth, rss_growth = open_fds() - fds, rss_mb() - rss
    out(f"long-running host: {connections} connections, {done} calls ({errors} SQL errors, as asked) in "
        f"{time.perf_counter() - started:.0f} s; after the first tenth: file descriptors {fd_growth:+d}, "
        f"RSS {rss_growth:+.1f} MB (now {rss_mb():.0f} MB)")
    return fd_growth, rss_growth


# ---------------------------------------------------------------------------------------------
# Load on the public Datasette recipe

def public_requests(scene, scene_id):
    """(path, params): the recipe's canned queries, table and row pages, the plugin's pictures and
    patch grid, and asks it refuses (arbitrary SQL, a window off the raster)."""
    return [
        ("/catalog/scene_ndvi.json", {"scene": scene}),
        ("/catalog/quicklook.json", {"scene": scene, "col": 512, "row": 512}),
        ("/catalog/clear_green_pairs.json", {}),
        ("/catalog/scene_patches.json", {"scene": scene}),
        ("/catalog/scene_quicklook.json", {"scene": scene}),
        ("/catalog/scenes.json", {"_size": 50, "has_files": 1}),
        ("/catalog/scenes", {"_size": 20}),
        (f"/catalog/scenes/{scene_id}", {}),
        ("/catalog/band_stats.json", {"_size": 100}),
        (f"/-/s12/catalog/{scene_id}/rgb.png", {}),
        (f"/-/s12/catalog/{scene_id}/worldcover.png", {}),
        (f"/-/s12/catalog/{scene_id}/patches.json", {}),
        ("/catalog.json", {"sql": "SELECT 1"}),
        ("/catalog/quicklook.json", {"scene": scene, "col": 1900, "row": 1900}),
    ]


def refusal(status, body):
    """What a 4xx said: Datasette's page for SQL it does not allow, or the query's error."""
    if status == 403 and b"Forbidden" in body:
        return "403: arbitrary SQL is not allowed"
    if b"SQL query took too long" in body and b"sql_time_limit_ms" in body:
        return f"{status}: SQL query took too long (Datasette's sql_time_limit_ms)"
    try:
        return f"{status}: {json.loads(body)['error']}"
    except (ValueError, KeyError):
        return f"{status}: {body[:200].decode(errors='replace')}"


def load_public_recipe(db, clients, warmup, requests, budget_ms, out=print):
    """The recipe under `clients` concurrent clients; returns the figures. The catalog must be
    called catalog.db and have a scene on disk."""
    with closing(sqlite3.connect(db)) as conn:
        scene, scene_id = conn.execute("SELECT name, scene_id FROM scenes WHERE has_files ORDER BY scene_id").fetchone()
    script = ROOT / "examples" / "datasette" / "serve-public.sh"
    env = {"DATASETTE": str(WHEEL_HOSTS / "bin" / "datasette"), "SEN12LITE_MAX_STATEMENT_MS": str(budget_ms)}
    mix = public_requests(scene, scene_id)
    with Datasette(lambda port: ["sh", str(script), str(db), str(port)], env) as server:
        server_pid = server.process.pid
        # `sh` execs Datasette: the server is the process itself.
        figures = {}

        def run(count):
            statuses, latencies, refusals, failures = {}, [], [], []
            lock = threading.Lock()
            queue = iter(range(count))

            def client():
                rng = random.Random(threading.get_ident())
                while True:
                    with lock:
                        if next(queue, None) is None:
                            return
                    path, params = rng.choice(mix)
                    started = time.perf_counter()
                    try:
                        status, _, body = server.fetch(path, **params)
                    except OSError as e:  # a dropped connection, a reset, a timeout
                        with lock:
                            failures.append(repr(e))
                        continue
                    with lock:
                        latencies.append(time.perf_counter() - started)
                        statuses[status] = statuses.get(status, 0) + 1
                        if 400 <= status < 500:
                            refusals.append(refusal(status, body))

            threads = [threading.Thread(target=client) for _ in range(clients)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return statuses, sorted(latencies), refusals, failures, time.perf_counter() - started

        run(warmup)
        before = rss_mb(server_pid)
        statuses, latencies, refusals, failures, seconds = run(requests)
        after = rss_mb(server_pid)
        figures = {
            "statuses": statuses, "failures": failures, "refusals": refusals,
            "rss_before": before, "rss_after": after, "per_second": len(latencies) / seconds,
            "p50_ms": latencies[len(latencies) // 2] * 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        }
    out(f"load, public recipe (SEN12LITE_MAX_STATEMENT_MS={budget_ms}): {clients} clients, {requests} requests after "
        f"{warmup}: statuses {dict(sorted(statuses.items()))}, {len(failures)} dropped, "
        f"{figures['per_second']:.0f} requests/s, p50 {figures['p50_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms, "
        f"server RSS {before:.0f} -> {after:.0f} MB")
    kinds = {}
    for text in refusals:
        kind = re.sub(r"\d+", "N", text)
        kinds[kind] = kinds.get(kind, 0) + 1
    out(f"  refusals: {dict(sorted(kinds.items(), key=lambda k: -k[1]))}")
    return figures


def main():
    full = "--full" in sys.argv
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        tree = folder / "data"
        subprocess.run([BIN, "synth", tree, "--layout", "sen12tp", "--scenes", "6", "--size", "240", "--seed", "3"],
                       check=True, capture_output=True)
        db = folder / "catalog.db"
        subprocess.run([BIN, "ingest", tree, "--db", db], check=True, capture_output=True)
        lying_files(folder / "lying", 10_000 if full else 1_000)
        long_running_host(db, 10_000 if full else 1_000, 100_000 if full else 10_000)
        changing_files(tree, db, 60 if full else 10)
        big = folder / "big" / "data"
        subprocess.run([BIN, "synth", big, "--layout", "sen12tp", "--scenes", "1", "--size", "2000"],
                       check=True, capture_output=True)
        big_db = folder / "big" / "catalog.db"
        subprocess.run([BIN, "ingest", big, "--db", big_db], check=True, capture_output=True)
        for budget in (1000, 100):
            load_public_recipe(big_db, 16, 1_500 if full else 200, 3_000 if full else 400, budget)


if __name__ == "__main__":
    main()
