"""Ingest straight from the downloads: SEN12MS as its 12 `.tar.gz` archives, SEN12TP as zip
archives, packed here by Python's tarfile and zipfile (independent of sen12lite). The catalog must
hold what the unpacked tree gives, apart from the location; the extension reads windows from the
archives when the operator allows it."""
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import zipfile

import numpy as np
import pytest
from osgeo import gdal

from conftest import BIN, EXT, connect, content, load, peak_rss, run, synth_tree

gdal.UseExceptions()


def pack_sen12ms(tree, out, prefix="", format=tarfile.DEFAULT_FORMAT):
    """The 12 downloads `ROIs{code}_{season}_{kind}.tar.gz`, each holding
    `ROIs{code}_{season}/{kind}_{scene}/...`, as the dataset is published (`prefix` "./" as
    `tar -C dir .` writes names), in tarfile's `format`."""
    out.mkdir()
    for season in sorted(p for p in tree.iterdir() if p.is_dir()):
        for kind in ("s1", "s2", "lc"):
            with tarfile.open(out / f"{season.name}_{kind}.tar.gz", "w:gz", format=format) as archive:
                for folder in sorted(season.glob(f"{kind}_*")):
                    archive.add(folder, arcname=f"{prefix}{season.name}/{folder.name}")
    for listing in ("train_list.txt", "test_list.txt"):
        (out / listing).write_bytes((tree / listing).read_bytes())
    return out


def pack_sen12tp(tree, out):
    """The train and test folders as zip archives, the metadata file beside them."""
    out.mkdir()
    for split in ("train", "test"):
        with zipfile.ZipFile(out / f"sen12tp-{split}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted((tree / split).rglob("*.tif")):
                archive.write(path, arcname=str(path.relative_to(tree)))
    (out / "sen12tp-metadata.json").write_bytes((tree / "sen12tp-metadata.json").read_bytes())
    return out


def located_anywhere(db):
    """`content` with each file's location left out: what packing must not change."""
    conn = connect(db)
    out = content(db)
    names = [c[1] for c in conn.execute("PRAGMA table_info(files)") if c[1] != "mtime"]
    keep = [i for i, name in enumerate(names) if name != "path"]
    out["files"] = sorted(tuple(row[i] for i in keep) for row in out["files"])
    return out


def ingest(tree, db):
    return run("ingest", tree, "--db", db, "--jobs", 1, check=False)


def test_sen12ms_archives_give_the_catalog_of_the_unpacked_tree(ms_tree, ms_db, tmp_path):
    downloads = pack_sen12ms(ms_tree, tmp_path / "downloads")
    db = tmp_path / "c.db"
    packed = sorted(os.listdir(downloads))
    first = ingest(downloads, db)
    assert first.returncode == 0, first.stderr
    assert located_anywhere(db) == located_anywhere(ms_db)
    paths = [r[0] for r in connect(db).execute("SELECT path FROM files ORDER BY path")]
    assert paths[0] == "ROIs1158_spring_lc.tar.gz/ROIs1158_spring/lc_1/ROIs1158_spring_lc_1_p1.tif"
    # The progress line counts the archives' own bytes.
    archive_mb = sum(p.stat().st_size for p in downloads.glob("*.tar.gz")) / 1e6
    done, total = map(float, re.search(r"files, (\d+)/(\d+) MB", first.stderr).groups())
    assert done == total and abs(total - archive_mb) <= 1, (first.stderr, archive_mb)
    again = ingest(downloads, db)
    assert again.returncode == 0 and f"0 scanned, {14 * 3} unchanged" in again.stdout
    assert sorted(os.listdir(downloads)) == packed  # no .gz.properties or .aux.xml written beside them


def test_member_names_written_with_a_leading_dot_slash_are_the_same_members(ms_tree, ms_db, tmp_path, monkeypatch):
    downloads = pack_sen12ms(ms_tree, tmp_path / "downloads", prefix="./")
    db = tmp_path / "c.db"
    assert ingest(downloads, db).returncode == 0
    assert located_anywhere(db) == located_anywhere(ms_db)
    scene, member = connect(db).execute("SELECT scene_id, path FROM files WHERE modality = 's2' LIMIT 1").fetchone()
    assert "/./" not in member
    monkeypatch.setenv("SEN12LITE_READ_ARCHIVES", "1")
    blob = load(db).execute(f"SELECT s12_window({scene}, 's2', 'B2', 0, 0, 16, 16)").fetchone()[0]
    assert np.array_equal(np.load(io.BytesIO(blob)), gdal.Open(str(ms_tree / member.split("/", 1)[1])).ReadAsArray()[1:2, :16, :16])


@pytest.mark.parametrize("format", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT],
                         ids=["gnu-long-name", "pax-path", "ustar-prefix"])
def test_member_names_over_100_bytes_are_read_in_each_tar_format(ms_tree, ms_db, tmp_path, format):
    """A name too long for the header's 100 bytes: GNU writes a long-name entry before the member,
    pax a `path` record, ustar splits it into the prefix field. Each is the full name."""
    mirror = "a-mirror-of-the-dataset-" * 3 + "/"
    downloads = pack_sen12ms(ms_tree, tmp_path / "downloads", prefix=mirror, format=format)
    db = tmp_path / "c.db"
    assert ingest(downloads, db).returncode == 0
    assert located_anywhere(db) == located_anywhere(ms_db)
    paths = [r[0] for r in connect(db).execute("SELECT path FROM files")]
    assert all(mirror in path and len(path.split(".tar.gz/", 1)[1]) > 100 for path in paths), paths[:2]


def test_sen12tp_zip_archives_give_the_catalog_of_the_unpacked_tree(tp_tree, tp_db, tmp_path, monkeypatch):
    downloads = pack_sen12tp(tp_tree, tmp_path / "downloads")
    db = tmp_path / "c.db"
    result = ingest(downloads, db)
    assert result.returncode == 0, result.stderr
    assert located_anywhere(db) == located_anywhere(tp_db)
    scene, member = connect(db).execute("SELECT scene_id, path FROM files WHERE modality = 's2' AND path LIKE "
                                        "'sen12tp-train.zip/train/%' ORDER BY path DESC LIMIT 1").fetchone()
    monkeypatch.setenv("SEN12LITE_READ_ARCHIVES", "1")
    reader = load(db)
    query = f"SELECT s12_window({scene}, 's2', 'B8', 100, 50, 64, 32)"
    blob = reader.execute(query).fetchone()[0]
    unpacked = gdal.Open(str(tp_tree / member.split("/", 1)[1])).ReadAsArray()[7:8, 50:82, 100:164]
    assert np.array_equal(np.load(io.BytesIO(blob)), unpacked)
    # The connection remembers the member's archive, but not past the archive being swapped for a
    # symlink out of the data root.
    archive = downloads / "sen12tp-train.zip"
    outside = tmp_path / "outside.zip"
    archive.rename(outside)
    archive.symlink_to(outside)
    with pytest.raises(sqlite3.OperationalError, match="s12_window: path 'sen12tp-train.zip' leads outside data_root"):
        reader.execute(query).fetchone()


def test_the_extension_reads_archived_windows_only_when_the_operator_allows_it(ms_tree, tmp_path, monkeypatch):
    downloads = pack_sen12ms(ms_tree, tmp_path / "downloads")
    db = tmp_path / "c.db"
    assert ingest(downloads, db).returncode == 0
    scene, member = connect(db).execute(
        "SELECT scene_id, path FROM files WHERE modality = 's2' ORDER BY path DESC LIMIT 1").fetchone()
    query = f"SELECT s12_window({scene}, 's2', 'B4,B8', 5, 7, 40, 30)"
    refused = run_shell(db, query)
    assert refused.returncode == 1 and "is inside an archive: set SEN12LITE_READ_ARCHIVES=1 to read it" in refused.stderr
    monkeypatch.setenv("SEN12LITE_READ_ARCHIVES", "1")
    blob = load(db).execute(query).fetchone()[0]
    unpacked = ms_tree / member.split("/", 1)[1]
    expected = gdal.Open(str(unpacked)).ReadAsArray()[[3, 7], 7:37, 5:45]
    assert np.array_equal(np.load(io.BytesIO(blob)), expected)


def run_shell(db, sql, **env):
    return subprocess.run(["/usr/bin/sqlite3", str(db), f".load {EXT}", sql], capture_output=True, text=True,
                          env={**os.environ, **env})


def test_a_damaged_archive_is_recorded_and_the_others_ingested(ms_tree, tmp_path):
    downloads = pack_sen12ms(ms_tree, tmp_path / "downloads")
    victim = downloads / "ROIs1868_summer_s2.tar.gz"
    victim.write_bytes(victim.read_bytes()[:200])
    db = tmp_path / "c.db"
    result = ingest(downloads, db)
    assert result.returncode == 1
    rows = [tuple(r) for r in connect(db).execute("SELECT path, stage FROM ingest_errors")]
    assert rows and all(path.startswith(victim.name) and stage in ("discover", "read") for path, stage in rows), rows
    others = connect(db).execute("SELECT count(*) FROM files WHERE path NOT LIKE ?", (victim.name + "/%",)).fetchone()[0]
    assert others == 14 * 3 - sum(1 for p in ms_tree.rglob("ROIs1868_summer_s2_*.tif"))


def test_an_empty_member_is_recorded_and_the_others_ingested(ms_tree, tmp_path):
    """A zero-byte member is scanned from memory like every tar member: it must be an error row,
    never a crash (GDAL frees the memory it is handed, and an empty buffer has none)."""
    downloads = pack_sen12ms(ms_tree, tmp_path / "downloads")
    archive_path = downloads / "ROIs1158_spring_lc.tar.gz"
    member = next(iter(sorted(ms_tree.glob("ROIs1158_spring/lc_*/*.tif"))))
    name = str(member.relative_to(ms_tree))
    with tarfile.open(archive_path) as archive:
        members = [(m, archive.extractfile(m).read() if m.isfile() else None) for m in archive.getmembers()]
    with tarfile.open(archive_path, "w:gz") as archive:
        for info, data in members:
            if info.name == name:
                info.size, data = 0, b""
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    db = tmp_path / "c.db"
    result = ingest(downloads, db)
    assert result.returncode == 1, result.stderr
    rows = [tuple(r) for r in connect(db).execute("SELECT path, stage, message FROM ingest_errors")]
    assert rows == [(f"{archive_path.name}/{name}", "read", f"cannot open {archive_path.name}/{name} as a GeoTIFF: "
                     "the file is empty")], rows
    assert connect(db).execute("SELECT count(*) FROM files").fetchone()[0] == 14 * 3 - 1


@pytest.mark.parametrize("layout, tree_fixture, db_fixture, suffix", [
    ("sen12ms", "ms_tree", "ms_db", ".tar.gz"),
    ("sen12tp", "tp_tree", "tp_db", ".zip"),
])
def test_synth_writes_the_downloads_that_python_reads_and_sen12lite_ingests(layout, tree_fixture, db_fixture, suffix,
                                                                          request, tmp_path_factory, tmp_path):
    tree, plain_db = request.getfixturevalue(tree_fixture), request.getfixturevalue(db_fixture)
    sizes = {"sen12ms": (14, 64, 5), "sen12tp": (8, 240, 3)}[layout]
    packed = synth_tree(tmp_path_factory, layout, *sizes, extra=("--archives",))
    archives = sorted(packed.glob(f"*{suffix}"))
    assert not list(packed.rglob("*.tif")) and archives
    # Python's own readers open them, and they hold the unpacked tree's files byte for byte.
    members = 0
    for archive in archives:
        if suffix == ".zip":
            with zipfile.ZipFile(archive) as z:
                for name in z.namelist():
                    assert z.read(name) == (tree / name).read_bytes(), name
                    members += 1
        else:
            with tarfile.open(archive) as t:
                for member in t.getmembers():
                    assert t.extractfile(member).read() == (tree / member.name).read_bytes(), member.name
                    members += 1
    assert members == len(list(tree.rglob("*.tif")))
    if layout == "sen12ms":
        assert [a.name for a in archives][:3] == ["ROIs1158_spring_lc.tar.gz", "ROIs1158_spring_s1.tar.gz", "ROIs1158_spring_s2.tar.gz"]
    db = tmp_path / "c.db"
    assert ingest(packed, db).returncode == 0
    assert located_anywhere(db) == located_anywhere(plain_db)


def test_the_archive_ingest_memory_does_not_grow_with_the_archive(tmp_path_factory, tmp_path):
    """Members are read in one pass through each archive and scanned from memory, one at a time per
    worker: an archive eight times larger takes no more memory than the GDAL block cache's fixed
    share (32 MiB a worker) fills, and no more than ingesting the same files unpacked."""
    def ingest_peak(tree, name):
        result, rss = peak_rss([BIN, "ingest", tree, "--db", tmp_path / f"{name}.db", "--jobs", 1])
        assert result.returncode == 0, result.stderr
        return rss
    peaks = {}
    for triplets in (40, 320):
        packed = synth_tree(tmp_path_factory, "sen12ms", scenes=triplets, size=128, seed=2, extra=("--archives",))
        peaks[triplets] = (sum(p.stat().st_size for p in packed.glob("*.tar.gz")) / 1e6, ingest_peak(packed, triplets))
    unpacked = ingest_peak(synth_tree(tmp_path_factory, "sen12ms", scenes=320, size=128, seed=2), "unpacked")
    (small_mb, small_rss), (large_mb, large_rss) = peaks[40], peaks[320]
    print(f"archives of {small_mb:.0f} MB and {large_mb:.0f} MB: ingest peak RSS {small_rss:.0f} and {large_rss:.0f} MiB; "
          f"the large tree unpacked: {unpacked:.0f} MiB", file=sys.stderr)
    assert large_mb > 6 * small_mb
    assert large_rss - small_rss < 32 and large_rss < unpacked + 24, (peaks, unpacked)


def test_archives_ingested_as_they_download_give_the_catalog_of_the_folder(ms_tree, ms_db, tmp_path):
    downloads = pack_sen12ms(ms_tree, tmp_path / "downloads")
    archives = sorted(downloads.glob("*.tar.gz"))
    db = tmp_path / "c.db"
    for archive in archives:  # one at a time, as each download finishes
        result = run("ingest", archive, "--db", db, "--jobs", 1, check=False)
        assert result.returncode == 0, result.stderr
    assert located_anywhere(db) == located_anywhere(ms_db)
    # Two of them again: nothing rescanned, and nothing of the others forgotten.
    again = run("ingest", archives[0], archives[1], "--db", db, check=False)
    in_two = sum(1 for kind in ("lc", "s1") for _ in (ms_tree / "ROIs1158_spring").glob(f"{kind}_*/*.tif"))
    assert [a.name for a in archives[:2]] == ["ROIs1158_spring_lc.tar.gz", "ROIs1158_spring_s1.tar.gz"]
    assert again.returncode == 0 and f"0 scanned, {in_two} unchanged, 0 removed" in again.stdout, again.stdout
    assert located_anywhere(db) == located_anywhere(ms_db)
    mixed = run("ingest", archives[0], downloads / "train_list.txt", "--db", db, check=False)
    assert mixed.returncode == 2 and "train_list.txt is not a data folder, nor an archive beside the others" in mixed.stderr


def test_a_download_kept_beside_its_unpacked_folders_is_one_input(ms_tree, ms_db, tmp_path):
    """A SEN12MS download as users keep it: the season folders, the .tar.gz archives they were
    unpacked from, the split lists naming every patch. Each patch is catalogued once, from its
    folder; the archives' copies are noted, not errors; the ingest exits 0 and its progress line
    counts what it catalogued. A damaged file still fails the run, by name."""
    tree = tmp_path / "download"
    shutil.copytree(ms_tree, tree)
    for archive in pack_sen12ms(ms_tree, tmp_path / "archives").glob("*.tar.gz"):
        shutil.move(archive, tree / archive.name)
    db = tmp_path / "c.db"
    first = ingest(tree, db)
    files = 14 * 3
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"{files} files found, {files} scanned" in first.stdout and ", 0 failed" in first.stdout, first.stdout
    assert (f"ingest: {files} files are also inside the downloaded archives beside them: the unpacked copies are "
            "the ones catalogued") in first.stdout
    assert re.search(rf"ingest: {files}/{files} files, .*, 0 failed", first.stderr), first.stderr
    assert connect(db).execute("SELECT count(*) FROM ingest_errors").fetchone()[0] == 0
    assert located_anywhere(db) == located_anywhere(ms_db)
    assert not [p for (p,) in connect(db).execute("SELECT path FROM files") if ".tar.gz" in p]
    damaged = next(tree.glob("ROIs1158_spring/s2_*/*.tif"))
    with open(damaged, "r+b") as f:
        f.truncate(2048)
    again = ingest(tree, db)
    assert again.returncode == 1 and "1 failed" in again.stdout, again.stdout
    name = str(damaged.relative_to(tree))
    assert connect(db).execute("SELECT count(*) FROM ingest_errors WHERE path = ?", (name,)).fetchone()[0] == 1
