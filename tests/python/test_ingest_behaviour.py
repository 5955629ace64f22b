"""The ingest as a user meets it: incremental re-runs, damaged and missing files, the exit status,
md5 verification, and the example queries."""
import shutil
import sqlite3
import subprocess

import numpy as np
from osgeo import gdal

from conftest import ROOT, connect, content, content_hash, run

gdal.UseExceptions()


def counts(stdout):
    words = stdout.replace(",", "").split()
    return {words[i + 1]: int(words[i]) for i in range(len(words) - 1) if words[i].isdigit()}


def test_second_run_skips_unchanged_and_takes_new_changed_and_removed_files(tp_copy, tmp_path):
    db = tmp_path / "c.db"  # the pixels are changed below, so md5sums.txt is not checked
    first = counts(run("ingest", tp_copy, "--db", db, "--no-checksums").stdout)
    assert first["scanned"] == 32 and first["unchanged"] == 0
    assert counts(run("ingest", tp_copy, "--db", db, "--no-checksums").stdout)["unchanged"] == 32

    scene_dirs = sorted(p for p in (tp_copy / "train").iterdir())
    s2 = next(scene_dirs[0].glob("*_s2.tif"))
    ds = gdal.Open(str(s2), gdal.GA_Update)
    band = ds.GetRasterBand(4)
    band.WriteArray(np.full((band.YSize, band.XSize), 1234, dtype=np.uint16))
    ds = None
    removed = next(scene_dirs[1].glob("*_dsm.tif"))
    removed.unlink()
    third = counts(run("ingest", tp_copy, "--db", db, "--no-checksums").stdout)
    assert (third["scanned"], third["unchanged"], third["removed"]) == (1, 30, 1)
    conn = connect(db)
    row = conn.execute("SELECT min, max FROM band_stats b JOIN files f USING (scene_id, modality) WHERE f.path LIKE ? AND band = 4",
                       (f"%{s2.name}",)).fetchone()
    assert tuple(row) == (1234.0, 1234.0) or tuple(row) == (1234, 1234)
    gone = conn.execute("SELECT count(*) FROM files WHERE path LIKE ?", (f"%{removed.name}",)).fetchone()[0]
    assert gone == 0
    # The incremental catalog equals a fresh one of the same tree.
    fresh = tmp_path / "fresh.db"
    run("ingest", tp_copy, "--db", fresh, "--no-checksums")
    assert content(db) == content(fresh)


def test_a_truncated_file_is_recorded_and_the_rest_continue(tp_copy, tmp_path):
    victim = next((tp_copy / "train").glob("*/*_s2.tif"))
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    db = tmp_path / "c.db"
    result = run("ingest", tp_copy, "--db", db, check=False)
    assert result.returncode == 1
    conn = connect(db)
    errors = conn.execute("SELECT path, stage, message FROM ingest_errors").fetchall()
    assert len(errors) == 1 and errors[0]["path"].endswith(victim.name) and errors[0]["stage"] == "read"
    assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 31
    # Restoring the file heals the catalog on the next run, and its error goes away.
    victim.write_bytes(data)
    assert run("ingest", tp_copy, "--db", db).returncode == 0
    assert conn.execute("SELECT count(*) FROM ingest_errors").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 32


def test_wrong_band_count_is_an_error_naming_the_expectation(tp_copy, tmp_path):
    victim = next((tp_copy / "train").glob("*/*_s1.tif"))
    victim.unlink()
    gdal.GetDriverByName("GTiff").Create(str(victim), 16, 16, 3, gdal.GDT_Float32).FlushCache()
    db = tmp_path / "c.db"
    assert run("ingest", tp_copy, "--db", db, check=False).returncode == 1
    message = connect(db).execute("SELECT message FROM ingest_errors").fetchone()[0]
    assert "wrong band count: 3 bands, expected 5 (VV_sigma0" in message


def test_a_missing_modality_shows_in_scene_files(tp_copy, tmp_path):
    scene = sorted((tp_copy / "train").iterdir())[0]
    next(scene.glob("*_s1.tif")).unlink()
    unknown_dir = sorted((tp_copy / "train").iterdir())[1]
    scene_id = unknown_dir.name.split("_")[1]
    shutil.copy(next(unknown_dir.glob("*_dsm.tif")), unknown_dir / f"{scene_id}_cgls.tif")
    db = tmp_path / "c.db"
    run("ingest", tp_copy, "--db", db)
    conn = connect(db)
    row = conn.execute("SELECT has_s1, has_s2, has_dsm, has_landcover FROM scene_files WHERE name = ?", (scene.name,)).fetchone()
    assert tuple(row) == (0, 1, 1, 1)
    assert conn.execute("SELECT count(*) FROM training_pairs WHERE name = ?", (scene.name,)).fetchone()[0] == 0
    # An unknown modality is still catalogued, its band named from the file's description.
    names = conn.execute("SELECT band_name FROM band_stats b JOIN scenes s USING (scene_id) WHERE s.name = ? AND modality = 'cgls'",
                         (unknown_dir.name,)).fetchall()
    assert [n[0] for n in names] == ["DSM"]


def test_verify_lists_mismatches(tp_copy):
    assert "0 mismatched" in run("verify", tp_copy).stdout
    victim = next((tp_copy / "train").glob("*/*_dsm.tif"))
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0xFF
    victim.write_bytes(bytes(data))
    result = run("verify", tp_copy, check=False)
    assert result.returncode == 1
    assert f"{victim.name}: checksum mismatch" in result.stdout and "1 mismatched" in result.stdout
    # md5sum itself agrees with what synth wrote for the untouched files.
    check = subprocess.run(["md5sum", "--check", "--quiet", "md5sums.txt"], cwd=tp_copy, capture_output=True, text=True)
    assert check.stdout.count("FAILED") == 1


def test_example_queries_run_in_the_sqlite3_shell(tp_db):
    for example in sorted((ROOT / "sql" / "examples").glob("*.sql")):
        result = subprocess.run(["/usr/bin/sqlite3", "-bail", "-header", str(tp_db)], stdin=example.open(),
                                capture_output=True, text=True)
        assert result.returncode == 0 and not result.stderr, (example.name, result.stderr)
    conn = sqlite3.connect(tp_db)
    green = conn.execute((ROOT / "sql/examples/04_clear_green_pairs.sql").read_text()).fetchall()
    expected = conn.execute("SELECT name FROM scenes WHERE has_files AND cloud_fraction < 0.05 ORDER BY ndvi_mean DESC LIMIT 5").fetchall()
    assert green and [g[0] for g in green] == [e[0] for e in expected]


def test_a_catalog_refuses_a_second_data_root(tp_db, ms_tree):
    result = run("ingest", ms_tree, "--db", tp_db, check=False)
    assert result.returncode == 2 and "this catalog indexes" in result.stderr


def test_an_ingest_killed_midway_leaves_a_catalog_the_next_run_completes(tp_tree, tmp_path):
    import random
    import signal
    import time
    from conftest import BIN
    fresh = tmp_path / "fresh.db"
    run("ingest", tp_tree, "--db", fresh)
    expected = content_hash(fresh)
    rng = random.Random(7)
    for trial in range(20):
        db = tmp_path / f"killed{trial}.db"
        process = subprocess.Popen([BIN, "ingest", str(tp_tree), "--db", str(db), "--jobs", "1"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 0.4))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if db.exists():
            assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        run("ingest", tp_tree, "--db", db)
        assert content_hash(db) == expected, f"trial {trial}: the completed catalog differs from an uninterrupted one"
