"""Loading dist/sen12lite.so: the stock sqlite3 shell (also renamed or through a symlink) and apsw
with its own newer SQLite."""
import os
import shutil
import sqlite3
import subprocess

from conftest import EXT


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


def test_loads_into_apsw_with_its_own_newer_sqlite(tp_db):
    import apsw  # installed by `make pylib` into build/pylib
    assert apsw.sqlite_lib_version() > "3.40.1"
    conn = apsw.Connection(str(tp_db))
    conn.enable_load_extension(True)
    conn.load_extension(EXT)
    row = list(conn.execute("SELECT s12_version(), s12_index_mean(390, 'ndvi') = ndvi_mean FROM scenes WHERE scene_id = 390"))
    assert row == [("v0.1.0", 1)]
    assert list(conn.execute("SELECT count(*) FROM s12_patches(390, 120, 120)")) == [(4,)]
