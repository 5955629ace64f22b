"""Loading dist/sen12lite.so: the stock sqlite3 shell (also renamed or through a symlink), apsw with
its own newer SQLite, and the refusal of a second SQLite library in one process."""
import os
import shutil
import sqlite3
import subprocess

import pytest

from conftest import EXT, ROOT


def test_loads_in_the_stock_shell_also_renamed(tp_db, tmp_path):
    """The extension is two files: the entry library finds sen12lite.libs/ beside its real path,
    so a renamed copy in a copy of the folder loads, and so does a symlink from anywhere."""
    dist = tmp_path / "dist"
    shutil.copytree(os.path.dirname(EXT), dist)
    renamed = dist / "s12x.so"
    shutil.copy(EXT, renamed)
    linked = tmp_path / "elsewhere.so"
    linked.symlink_to(EXT)
    for library in (EXT, str(renamed), str(linked)):
        out = subprocess.run(["/usr/bin/sqlite3", str(tp_db), f".load {library}", "SELECT s12_version(), s12_index_mean(390, 'ndvi') = ndvi_mean FROM scenes WHERE scene_id = 390"],
                             capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout.strip() == "v0.1.0|1", out.stderr
    debug = subprocess.run(["/usr/bin/sqlite3", ":memory:", f".load {EXT}", "SELECT s12_debug()"], capture_output=True, text=True).stdout
    assert "SQLite 3.40" in debug and "GDAL 3." in debug and "interruptible: no" in debug
    alone = tmp_path / "alone" / "sen12lite.so"
    alone.parent.mkdir()
    shutil.copy(EXT, alone)
    out = subprocess.run(["/usr/bin/sqlite3", ":memory:", f".load {alone}"], capture_output=True, text=True)
    assert out.returncode != 0 and "sen12lite: cannot load the implementation" in out.stderr, out.stderr
    # GDAL prints nothing on the host's stderr and writes no .aux.xml next to the data.
    bad = subprocess.run(["/usr/bin/sqlite3", str(tp_db), f".load {EXT}", "SELECT s12_stats(390, 's2', 'B4')"], capture_output=True, text=True)
    assert "ERROR" not in bad.stderr
    root = sqlite3.connect(tp_db).execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]
    assert not list(__import__("pathlib").Path(root).rglob("*.aux.xml"))


def python_with(script, *args):
    """Runs `script` in a fresh Debian Python (one SQLite library per process matters here) with
    build/pylib's apsw; returns its CompletedProcess."""
    return subprocess.run(["/usr/bin/python3", "-c", script, *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "build" / "pylib")})


APSW_THEN_STDLIB = """
import sqlite3, sys
import apsw
ext, db, first = sys.argv[1:4]
def into_apsw():
    conn = apsw.Connection(db)
    conn.enable_load_extension(True)
    conn.load_extension(ext)
    return list(conn.execute("SELECT s12_version(), s12_index_mean(390, 'ndvi') = ndvi_mean FROM scenes WHERE scene_id = 390"))
def into_stdlib():
    conn = sqlite3.connect(db)
    conn.enable_load_extension(True)
    conn.load_extension(ext)
    return conn.execute("SELECT s12_version(), s12_index_mean(390, 'ndvi') = ndvi_mean FROM scenes WHERE scene_id = 390").fetchall()
hosts = [into_apsw, into_stdlib] if first == "apsw" else [into_stdlib, into_apsw]
print(apsw.sqlite_lib_version(), sqlite3.sqlite_version)
print([tuple(r) for r in hosts[0]()])
try:
    print("second:", hosts[1]())
except Exception as e:
    print("refused:", e)
print("first again:", [tuple(r) for r in hosts[0]()])
"""


def test_loads_into_apsw_with_its_own_newer_sqlite(tp_db):
    out = python_with(APSW_THEN_STDLIB, EXT, tp_db, "apsw")
    assert out.returncode == 0, out.stderr
    versions, first, *_ = out.stdout.splitlines()
    assert versions.split()[0] > "3.40.1" and first == "[('v0.1.0', 1)]"


@pytest.mark.parametrize("first", ["apsw", "stdlib"])
def test_a_second_sqlite_library_in_the_process_is_refused_and_the_first_keeps_working(tp_db, first):
    """rusqlite keeps SQLite's routines process-wide: serving Python's sqlite3 (3.40) and apsw's
    own SQLite at once would call one library with the other's handles. The second load fails
    with a message, and the first host goes on."""
    out = python_with(APSW_THEN_STDLIB, EXT, tp_db, first)
    assert out.returncode == 0, out.stderr
    _, first_rows, second, again = out.stdout.splitlines()
    assert first_rows == "[('v0.1.0', 1)]" and again == "first again: [('v0.1.0', 1)]"
    assert second.startswith("refused:") and "sen12lite: already loaded into another SQLite library in this process" in second, second
