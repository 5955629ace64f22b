"""Faults during an ingest lose nothing: a catalog on a full disk (a size-limited tmpfs, at ten
sizes from "the schema does not fit" to "all but the last batch fits"), and read errors injected
into one GeoTIFF (an LD_PRELOAD library failing its reads with EIO). After each fault: the catalog
passes integrity_check, `files.stats = 1` keeps its promise, and a run with space ends with the
same content as an ingest that never failed."""
import os
import sqlite3
import subprocess
from contextlib import closing

import pytest

from conftest import BIN, Tmpfs, content, content_hash, run

BATCH = "10"


def ingest(tree, db, **env):
    """One worker: files are committed in the same order every run, so the catalog's peak size,
    and the point each fault hits, are the same every run."""
    return subprocess.run([BIN, "ingest", str(tree), "--db", str(db), "--batch-files", BATCH, "--jobs", "1"],
                          capture_output=True, text=True, env={**os.environ, **env})


def query(db, sql):
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def broken_promises(db):
    """Files that say they have statistics but miss band rows."""
    return query(db, "SELECT path FROM files f WHERE stats = 1 AND band_count != "
                     "(SELECT count(*) FROM band_stats b WHERE b.scene_id = f.scene_id AND b.modality = f.modality)")


def committed_files(db):
    """Rows of `files`; 0 when the schema itself was never committed."""
    if not db.exists() or not query(db, "SELECT 1 FROM sqlite_master WHERE name = 'files'"):
        return 0
    return query(db, "SELECT count(*) FROM files")[0][0]


def integrity(db):
    return query(db, "PRAGMA integrity_check")[0][0]


@pytest.fixture(scope="module")
def triplets(tmp_path_factory):
    """A SEN12MS tree of 60 triplets (180 files): 18 batches of 10."""
    out = tmp_path_factory.mktemp("faults") / "data"
    run("synth", out, "--layout", "sen12ms", "--scenes", 60, "--size", 64, "--seed", 11)
    return out


@pytest.fixture(scope="module")
def reference(triplets, tmp_path_factory):
    db = tmp_path_factory.mktemp("reference") / "catalog.db"
    result = ingest(triplets, db)
    assert result.returncode == 0, result.stderr
    return db


def smallest_fitting_kib(tree, disk):
    """The least tmpfs size an uninterrupted ingest needs (database, WAL, WAL index), by bisection."""
    low, high = 12, 64 * 1024
    while high - low > 4:
        middle = (low + high) // 2
        disk.resize(middle)
        for leftover in disk.path.iterdir():
            leftover.unlink()
        fits = ingest(tree, disk.path / "catalog.db").returncode == 0
        low, high = (low, middle) if fits else (middle, high)
    for leftover in disk.path.iterdir():
        leftover.unlink()
    return high


def test_a_full_disk_at_ten_points_loses_nothing_and_the_next_run_completes(triplets, reference, tmp_path):
    expected = content_hash(reference)
    with Tmpfs(tmp_path / "probe", 64 * 1024) as probe:
        fits_kib = smallest_fitting_kib(triplets, probe)
    # Ten sizes from 12 KiB (not even the schema fits) to just under what the whole ingest needs.
    sizes = [12 + (fits_kib - 8 - 12) * k // 9 for k in range(10)]
    outcomes = []
    for k, kib in enumerate(sizes):
        with Tmpfs(tmp_path / f"disk{k}", kib) as disk:
            db = disk.path / "catalog.db"
            failed = ingest(triplets, db)
            disk.resize(64 * 1024)  # SQLite needs room even to open a WAL catalog and look
            written = committed_files(db)
            outcomes.append((kib, failed.returncode, written))
            if failed.returncode != 0:
                assert "disk is full" in failed.stderr, failed.stderr
                assert "no transaction is active" not in failed.stderr, failed.stderr
                assert not db.exists() or integrity(db) == "ok", kib
                assert not written or broken_promises(db) == [], kib
            again = ingest(triplets, db)
            assert again.returncode == 0, (kib, again.stderr)
            assert integrity(db) == "ok" and broken_promises(db) == []
            assert content_hash(db) == expected, (kib, outcomes)
    print(f"an uninterrupted ingest needs {fits_kib} KiB; tmpfs KiB, first exit status, files committed before the fault:",
          outcomes)
    failures = [o for o in outcomes if o[1] != 0]
    # The sweep must really hit the ingest at many points: before the schema, between batches.
    assert len(failures) >= 8, outcomes
    assert outcomes[0][1] != 0 and outcomes[0][2] == 0, outcomes
    assert len({written for _, _, written in failures}) >= 5, outcomes
    assert all(status == 1 for _, status, written in failures if written), outcomes
    # The largest size fails only in the last batches: all but at most two batches were committed.
    assert outcomes[-1][1] != 0 and outcomes[-1][2] >= 180 - 2 * int(BATCH), outcomes


def test_a_catalog_with_a_broken_stats_promise_is_repaired(triplets, reference, tmp_path):
    """A catalog from a sen12lite that committed half a file (stats = 1, bands missing)."""
    db = tmp_path / "catalog.db"
    db.write_bytes(reference.read_bytes())
    with closing(sqlite3.connect(db)) as conn:
        scene, modality = conn.execute("SELECT scene_id, modality FROM files WHERE modality = 's2' LIMIT 1").fetchone()
        conn.execute("DELETE FROM band_stats WHERE scene_id = ? AND modality = ? AND band > 6", (scene, modality))
        conn.commit()
    assert broken_promises(db)
    result = ingest(triplets, db)
    assert result.returncode == 0 and "1 scanned" in result.stdout, result.stdout
    assert broken_promises(db) == [] and content_hash(db) == content_hash(reference)


@pytest.mark.parametrize("after", [0, 40, 150, 300, 500])
def test_an_io_error_writing_the_catalog_loses_nothing(triplets, reference, tmp_path, fail_io, after):
    """EIO on the catalog's WAL after `after` successful writes: the message says so, and the next
    run completes the catalog."""
    db = tmp_path / "catalog.db"
    failed = ingest(triplets, db, LD_PRELOAD=str(fail_io), FAIL_WRITES_OF="catalog.db-wal", FAIL_WRITES_AFTER=str(after))
    assert failed.returncode != 0, failed.stdout
    assert "an I/O error" in failed.stderr and str(db) in failed.stderr, failed.stderr
    assert integrity(db) == "ok" and (not committed_files(db) or broken_promises(db) == [])
    print(f"EIO after {after} writes: {committed_files(db)} files committed before it")
    again = ingest(triplets, db)
    assert again.returncode == 0 and content_hash(db) == content_hash(reference), again.stderr


def test_a_read_only_catalog_says_so(triplets, reference, tmp_path):
    with Tmpfs(tmp_path / "ro", 8 * 1024) as disk:
        db = disk.path / "catalog.db"
        db.write_bytes(reference.read_bytes())
        disk.mount("ro", remount=True)
        result = ingest(triplets, db)
        assert result.returncode != 0 and "read-only" in result.stderr and str(db) in result.stderr, result.stderr


def test_a_read_error_in_one_geotiff_is_recorded_and_the_rest_is_exact(triplets, reference, tmp_path, fail_io):
    victim = sorted(triplets.rglob("*_s2_*_p*.tif"))[3]
    relative = str(victim.relative_to(triplets))
    db = tmp_path / "catalog.db"
    result = ingest(triplets, db, LD_PRELOAD=str(fail_io), FAIL_READS_OF=relative)
    assert result.returncode == 1, result.stderr
    errors = query(db, "SELECT path, stage, message FROM ingest_errors")
    assert [(path, stage) for path, stage, _ in errors] == [(relative, "read")], errors
    # Every other file's rows are exactly the reference's.
    broken, clean = content(db), content(reference)
    victim_file = (scene_of(reference, relative), "s2")
    for table in ("files", "band_stats"):
        assert broken[table] == [row for row in clean[table] if tuple(row[:2]) != victim_file], table
    again = ingest(triplets, db)
    assert again.returncode == 0 and content_hash(db) == content_hash(reference), again.stderr


def scene_of(db, relative):
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT scene_id FROM files WHERE path = ?", (relative,)).fetchone()[0]


def test_verify_reports_a_file_it_cannot_read(triplets, fail_io):
    victim = sorted(triplets.rglob("*_lc_*_p*.tif"))[0]
    relative = str(victim.relative_to(triplets))
    result = subprocess.run([BIN, "verify", str(triplets)], capture_output=True, text=True,
                            env={**os.environ, "LD_PRELOAD": str(fail_io), "FAIL_READS_OF": relative})
    assert result.returncode == 1, result.stderr
    assert f"{relative}: cannot read: Input/output error" in result.stdout, result.stdout
    assert "0 mismatched" not in result.stdout and "1 mismatched" in result.stdout, result.stdout
