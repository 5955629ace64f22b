"""A catalog travels: after an ingest it is one self-contained file (rollback journal, no -wal or
-shm), so a copy on read-only media — a read-only mount, a container layer, a published dataset —
opens in the sqlite3 shell, Python and the extension without `immutable=1`; when another connection
holds the catalog at the end of an ingest, it stays in WAL and the ingest says so."""
import json
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from conftest import EXT, Tmpfs, load, run


def test_an_ingested_catalog_is_one_file_that_opens_read_only_anywhere(tp_db, tmp_path):
    assert sqlite3.connect(tp_db).execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert not Path(f"{tp_db}-wal").exists() and not Path(f"{tp_db}-shm").exists()
    with Tmpfs(tmp_path / "media", 64 * 1024) as media:
        db = media.path / "catalog.db"
        db.write_bytes(Path(tp_db).read_bytes())
        media.mount("ro", remount=True)
        shell = subprocess.run(["/usr/bin/sqlite3", db, "SELECT count(*) FROM scenes"], capture_output=True, text=True)
        assert shell.stdout == "2319\n", shell.stderr
        with closing(sqlite3.connect(db)) as plain:
            assert plain.execute("SELECT count(*) FROM files").fetchone() == (32,)
        with closing(load(db)) as ext, closing(load(tp_db)) as original:
            summary = json.loads(ext.execute("SELECT s12_band_summary(scene_id, 's2', 'B4') FROM scenes").fetchone()[0])
            assert summary["files"] == 8
            window = "SELECT s12_window(390, 's2', 'B4', 0, 0, 8, 8)"
            assert ext.execute(window).fetchone() == original.execute(window).fetchone()
        extension = subprocess.run(["/usr/bin/sqlite3", db, f".load {EXT}", "SELECT count(*) FROM s12_patches(390, 64, 64)"],
                                   capture_output=True, text=True)
        assert extension.stdout == "9\n", extension.stderr


def test_a_catalog_held_by_a_reader_stays_in_wal_and_the_ingest_says_so(tp_tree, tp_db, tmp_path):
    db = tmp_path / "catalog.db"
    db.write_bytes(Path(tp_db).read_bytes())
    reader = sqlite3.connect(db)
    reader.execute("PRAGMA journal_mode = WAL").fetchone()
    assert reader.execute("SELECT count(*) FROM scenes").fetchone() == (2319,)
    held = run("ingest", tp_tree, "--db", db)
    assert "another connection has" in held.stderr and "stays in WAL mode" in held.stderr
    assert reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    reader.close()
    free = run("ingest", tp_tree, "--db", db)
    assert "WAL" not in free.stderr
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone() == ("delete",)
