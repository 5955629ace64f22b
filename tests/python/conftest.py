"""Fixtures: trees synthesized by `sen12lite synth` and catalogs ingested from them.

The oracle in these tests is GDAL's Python bindings plus numpy: pixels are read independently of
the Rust code and every figure of the catalog is recomputed from them.
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("S12_BIN", str(ROOT / "target" / "release" / "sen12lite"))
METADATA = ROOT / "data" / "sen12tp-metadata.json"
EXT = os.environ.get("S12_EXT", str(ROOT / "dist" / "sen12lite.so"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Strict mode (S12_STRICT=1, `make test`'s default): a skipped test fails, with its reason, so
    that a missing tool cannot pass for a passing test."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("S12_STRICT") == "1" and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in strict mode (S12_STRICT=1): {report.longrepr}"


def run(*args, check=True):
    """Runs the sen12lite command; returns the CompletedProcess."""
    result = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"sen12lite {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr}")
    return result


def connect(db):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return conn


def load(db):
    """A connection of Debian's Python with the extension loaded."""
    conn = sqlite3.connect(db)
    conn.enable_load_extension(True)
    conn.load_extension(EXT)
    return conn


# What version 4 added to version 3: the patch grid.
BEFORE_VERSION_4 = ["DROP TABLE patches", "DROP TABLE patch_grids", "DROP TABLE patch_cells",
                    "ALTER TABLE files DROP COLUMN patch_threshold"]


def older_schema(db, statements):
    """Runs `statements` (DROP COLUMN and the like, to make a catalog of an older schema) with apsw's
    SQLite: Debian's 3.40 fails to drop a last column whose table's comments hold parentheses."""
    import apsw

    conn = apsw.Connection(str(db))
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


def data_root(db):
    """The catalog's `s12_meta.data_root`."""
    with closing(connect(db)) as conn:
        return conn.execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]


TABLES = ["scenes", "files", "band_stats", "landcover"]


def content(db):
    """The catalog's content without times: what two equivalent ingests must agree on."""
    out = {}
    with closing(connect(db)) as conn:
        for table in TABLES:
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})") if c[1] != "mtime"]
            out[table] = sorted(tuple(r) for r in conn.execute(f"SELECT {', '.join(columns)} FROM {table}"))
    return out


@pytest.fixture(scope="session")
def fail_io(tmp_path_factory):
    """tests/python/faults/fail_io.c built: an LD_PRELOAD library that fails reads or writes of a file."""
    library = tmp_path_factory.mktemp("fault") / "fail_io.so"
    source = Path(__file__).parent / "faults" / "fail_io.c"
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", str(library), str(source), "-ldl"], check=True)
    return library


def every_table(db):
    """Every table's rows, sorted, but the times of an ingest run (`ingest_errors.at`,
    `s12_meta.last_ingest`): what a merge of a sharded ingest and one ingest must agree on."""
    out = {}
    with closing(sqlite3.connect(db)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'scenes_rtree_%'")]
        for table in tables:
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info('{table}')") if (table, c[1]) != ("ingest_errors", "at")]
            rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            out[table] = sorted((r for r in rows if table != "s12_meta" or r[0] != "last_ingest"), key=repr)
    return out


def content_hash(db):
    """SHA-256 of `content`: one value per catalog to compare runs by."""
    return hashlib.sha256(repr(content(db)).encode()).hexdigest()


def synth_tree(factory, layout, scenes, size, seed, extra=()):
    out = factory.mktemp(layout) / "data"
    run("synth", out, "--layout", layout, "--scenes", scenes, "--size", size, "--seed", seed, *extra)
    return out


def ingest_tree(factory, tree):
    db = factory.mktemp("catalog") / "catalog.db"
    run("ingest", tree, "--db", db)
    return db


@pytest.fixture(scope="session")
def tp_tree(tmp_path_factory):
    return synth_tree(tmp_path_factory, "sen12tp", scenes=8, size=240, seed=3)


@pytest.fixture(scope="session")
def tp_db(tp_tree, tmp_path_factory):
    return ingest_tree(tmp_path_factory, tp_tree)


@pytest.fixture(scope="session")
def ms_tree(tmp_path_factory):
    return synth_tree(tmp_path_factory, "sen12ms", scenes=14, size=64, seed=5)


@pytest.fixture(scope="session")
def ms_db(ms_tree, tmp_path_factory):
    return ingest_tree(tmp_path_factory, ms_tree)


@pytest.fixture(scope="session")
def big_tree(tmp_path_factory):
    """One SEN12TP scene at its real size (2000 px), for whole-scene reads."""
    return synth_tree(tmp_path_factory, "sen12tp", scenes=1, size=2000, seed=1)


@pytest.fixture(scope="session")
def big_db(big_tree, tmp_path_factory):
    return ingest_tree(tmp_path_factory, big_tree)


@pytest.fixture
def tp_copy(tp_tree, tmp_path):
    """A private copy of the SEN12TP tree that a test may damage."""
    copy = tmp_path / "data"
    shutil.copytree(tp_tree, copy)
    return copy


@pytest.fixture
def tp_db_copy(tp_db, tmp_path):
    """A private copy of the SEN12TP catalog (same data_root) that a test may change."""
    copy = tmp_path / "catalog.db"
    shutil.copy(tp_db, copy)
    return copy


def shell(db, sql, ext=None, **env):
    """(exit code, stdout, stderr) of Debian's sqlite3 shell with the extension (`ext`, else the
    one under test) loaded, `env` added."""
    out = subprocess.run(["/usr/bin/sqlite3", str(db), f".load {ext or EXT}", sql], capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=120)
    return out.returncode, out.stdout, out.stderr


@pytest.fixture(scope="module")
def server(tp_tree):
    """The test tree served over HTTP with byte ranges (no folder listing) on 127.0.0.1."""
    from servers import RangeServer
    with RangeServer(tp_tree) as running:
        yield running


def remote(server):
    """The tree's root as GDAL names it over HTTP."""
    return f"/vsicurl/{server.url()}".rstrip("/")


@pytest.fixture(scope="module")
def s3(tp_tree):
    """The test tree in a bucket of moto's S3-compatible server on 127.0.0.1."""
    from servers import S3Server
    if not (S3Server.VENV / "moto_server").exists():
        pytest.skip("no moto_server in build/servers: run `make servers`")
    with S3Server(tp_tree) as running:
        yield running


@pytest.fixture(scope="module")
def ext(tp_db):
    return load(tp_db)


def peak_rss(command, stdin="", env=None):
    """Runs `command` with `stdin`; returns (CompletedProcess, its peak RSS in MiB)."""
    wrapper = ("import resource, subprocess, sys, json\n"
               "r = subprocess.run(sys.argv[1:], input=sys.stdin.read(), capture_output=True, text=True)\n"
               "print(json.dumps([r.returncode, r.stdout, r.stderr, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))")
    out = subprocess.run([sys.executable, "-c", wrapper, *map(str, command)], input=stdin, capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, timeout=600)
    code, stdout, stderr, kib = json.loads(out.stdout)
    return subprocess.CompletedProcess(command, code, stdout, stderr), kib / 1024


class Tmpfs:
    """A tmpfs of a given size at `path`, resized in place, unmounted at exit."""

    def __init__(self, path, kib):
        self.path = path
        path.mkdir()
        self.mount("size=%dk" % kib)

    def mount(self, options, remount=False):
        command = ["mount", "-t", "tmpfs", "-o", ("remount," if remount else "") + options, "tmpfs", str(self.path)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"mounting a tmpfs is not allowed here ({' '.join(command)}: {result.stderr.strip()})")

    def resize(self, kib):
        self.mount("size=%dk" % kib, remount=True)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        subprocess.run(["umount", str(self.path)], check=True)


WHEEL_HOSTS = ROOT / "build" / "wheelhosts"
# The wheels of the package's dependencies (numpy, pysqlite3-binary): a fresh venv installs offline.
WHEELHOUSE = ROOT / "build" / "wheelhouse"


def base_python():
    """pyenv's Python: the one build/wheelhosts was made from."""
    if not (WHEEL_HOSTS / "bin" / "python").exists():
        pytest.skip("no build/wheelhosts venv: run `make wheelhosts`")
    out = subprocess.run([WHEEL_HOSTS / "bin" / "python", "-c", "import sys; print(sys._base_executable)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def py(venv, code, *args, env=None):
    """Runs `code` in the venv's Python; its stdout."""
    result = subprocess.run([venv / "bin" / "python", "-c", code, *map(str, args)], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


# The window the wheel tests read, in SQL; rasterio_window reads the same one.
WINDOW = "s12_window(?, 's2', 'B4,B3,B2', 10, 20, 64, 48)"


def rasterio_window(scene_file, out_dir):
    """B4, B3, B2 of the window, read by rasterio (its own GDAL)."""
    code = ("import sys, numpy, rasterio; from rasterio.windows import Window\n"
            "with rasterio.open(sys.argv[1]) as d: a = d.read([4, 3, 2], window=Window(10, 20, 64, 48))\n"
            "numpy.save(sys.argv[2], a)")
    out = out_dir / "rasterio.npy"
    py(WHEEL_HOSTS, code, scene_file, out)
    return np.load(out)


def s2_file(tp_db):
    """The S2 file of the test scene, as the catalog names it."""
    from oracles import SCENE, path_of  # GDAL's bindings, loaded where a test needs them

    with closing(sqlite3.connect(tp_db)) as conn:
        return SCENE, path_of(conn, SCENE, "s2")


def built_wheel():
    """The wheel `make wheel` put in dist/, or the one S12_WHEEL names (`make wheels` tests the
    release wheels with the same tests)."""
    if os.environ.get("S12_WHEEL"):
        return Path(os.environ["S12_WHEEL"]).resolve()
    wheels = sorted((ROOT / "dist").glob("sen12lite-*.whl"))
    if not wheels:
        pytest.skip("no wheel in dist/: run `make wheel`")
    return wheels[-1]


@pytest.fixture(scope="session")
def wheel_hosts():
    """build/wheelhosts (pyenv's Python with Datasette, sqlite-utils, apsw, rasterio ...) with this
    build's wheel installed in it, as a user would have it."""
    python = WHEEL_HOSTS / "bin" / "python"
    if not python.exists():
        pytest.skip("no build/wheelhosts venv: run `make wheelhosts`")
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index", "--no-deps",
                    "--force-reinstall", built_wheel()], check=True)
    return WHEEL_HOSTS
