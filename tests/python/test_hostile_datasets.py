"""Damaged, half-unpacked and hostile dataset trees: every defect gives a clear message in
ingest_errors, the ingest goes on with everything else, and nothing already good is lost.

Each case damages a private copy of the synthesized SEN12TP tree (8 scenes, 32 files), ingests it
and compares with what the undamaged tree gives. The oracle is the tree itself: which files were
damaged is known, so which rows must be missing or flagged is known.
"""
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np
import pytest
from osgeo import gdal

from conftest import BIN, METADATA, connect, run

gdal.UseExceptions()
FILES = 32
SCENE_WITH_FILES = 390  # folder train/29_390
SCENE_WITHOUT_FILES = 1868


def scene_dir(tree, scene_id=SCENE_WITH_FILES):
    return next(tree.glob(f"*/*_{scene_id}"))


def modality_file(tree, modality):
    return scene_dir(tree) / f"{SCENE_WITH_FILES}_{modality}.tif"


def with_metadata(tree, edit):
    """Writes the real metadata into the tree, one feature a line, after `edit(lines)`."""
    lines = METADATA.read_text().splitlines(keepends=True)
    (tree / "sen12tp-metadata.json").write_text("".join(edit(lines)))


def edit_feature(scene_id, change):
    """An `edit` for `with_metadata` that rewrites the feature of `scene_id` with `change(dict)`."""
    def edit(lines):
        out = []
        for line in lines:
            if f'"scene_id": {scene_id},' in line:
                feature = json.loads(line.rstrip().rstrip(","))
                change(feature)
                line = json.dumps(feature) + ("," if line.rstrip().endswith(",") else "") + "\n"
            out.append(line)
        return out
    return edit


def rewrite_as(path, dtype, bands):
    """Replaces a GeoTIFF by one of another type or band count, same size and georeferencing; returns its path."""
    source = gdal.Open(str(path))
    size, transform, projection = (source.RasterXSize, source.RasterYSize), source.GetGeoTransform(), source.GetProjection()
    source = None
    path.unlink()
    ds = gdal.GetDriverByName("GTiff").Create(str(path), *size, bands, dtype)
    ds.SetGeoTransform(transform)
    ds.SetProjection(projection)
    ds = None
    return path


def set_md5(tree, path, hex_digest):
    listing = tree / "md5sums.txt"
    relative = str(path.relative_to(tree))
    lines = [f"{hex_digest}  {relative}" if line.endswith(f"  {relative}") else line for line in listing.read_text().splitlines()]
    listing.write_text("\n".join(lines) + "\n")


def ingest(tree, db, *flags):
    result = subprocess.run([BIN, "ingest", str(tree), "--db", str(db), *flags], capture_output=True, text=True, timeout=120)
    assert "panicked" not in result.stderr and result.returncode in (0, 1), result.stderr
    return result


def errors(db):
    return [tuple(r) for r in connect(db).execute("SELECT path, stage, message FROM ingest_errors ORDER BY path, stage")]


def file_count(db):
    return connect(db).execute("SELECT count(*) FROM files").fetchone()[0]


# (name, damage(tree) -> path of the damaged input relative to the tree, stage, message part, files catalogued)
def truncated_tiff(tree):
    victim = modality_file(tree, "s2")
    victim.write_bytes(victim.read_bytes()[:5000])
    return victim


def invert_first_tile_checksum(victim):
    """Inverts the zlib checksum (the last 4 bytes) of the first tile of `victim`, its DEFLATE data
    left intact."""
    dataset = gdal.Open(str(victim))
    band = dataset.GetRasterBand(1)
    offset, size = (int(band.GetMetadataItem(f"BLOCK_{what}_0_0", "TIFF")) for what in ("OFFSET", "SIZE"))
    band = dataset = None
    data = bytearray(victim.read_bytes())
    data[offset + size - 4:offset + size] = bytes(b ^ 0xFF for b in data[offset + size - 4:offset + size])
    victim.write_bytes(bytes(data))


def blocks_larger_than_the_raster(tree):
    """The s2 file's TileWidth tag (322) set to 65535: tiles of 65535 x 256 px of 13 bands (415 MiB)
    for a raster of 240 px, which GDAL would allocate at every read."""
    victim = modality_file(tree, "s2")
    data = bytearray(victim.read_bytes())
    assert data[:4] == b"II*\0", "a classic little-endian TIFF"
    ifd = int.from_bytes(data[4:8], "little")
    for k in range(int.from_bytes(data[ifd:ifd + 2], "little")):
        entry = ifd + 2 + 12 * k
        if int.from_bytes(data[entry:entry + 2], "little") == 322:
            data[entry + 8:entry + 12] = (65535).to_bytes(4, "little")  # SHORT or LONG: the low bytes first
    victim.write_bytes(bytes(data))
    return victim


def zero_byte_tiff(tree):
    victim = modality_file(tree, "dsm")
    victim.write_bytes(b"")
    return victim


def not_a_tiff(tree):
    victim = modality_file(tree, "worldcover")
    victim.write_bytes(b"PK\x03\x04 this is a zip archive, not a GeoTIFF")
    return victim


def wrong_band_count(tree):
    return rewrite_as(modality_file(tree, "s1"), gdal.GDT_Float32, 3)


def wrong_dtype_s2(tree):
    return rewrite_as(modality_file(tree, "s2"), gdal.GDT_Byte, 13)


def wrong_dtype_worldcover(tree):
    return rewrite_as(modality_file(tree, "worldcover"), gdal.GDT_Float32, 1)


def empty_scene_folder(tree):
    folder = scene_dir(tree)
    for f in folder.iterdir():
        f.unlink()
    return folder


def stray_file_name(tree):
    victim = scene_dir(tree) / "391_s2.tif"
    shutil.copy(modality_file(tree, "s2"), victim)
    return victim


def dangling_symlink(tree):
    victim = scene_dir(tree) / f"{SCENE_WITH_FILES}_cgls.tif"
    victim.symlink_to("nowhere.tif")
    return victim


def symlink_loop(tree):
    victim = scene_dir(tree) / f"{SCENE_WITH_FILES}_cgls.tif"
    victim.symlink_to(victim.name)
    return victim


def folder_symlink_loop(tree):
    victim = scene_dir(tree) / "again"
    victim.symlink_to("..")
    return victim


def symlink_out_of_the_tree(tree):
    outside = tree.parent / "outside.tif"
    shutil.copy(modality_file(tree, "dsm"), outside)
    victim = scene_dir(tree) / f"{SCENE_WITH_FILES}_dem.tif"
    victim.symlink_to(outside)
    return victim


def fifo(tree):
    victim = scene_dir(tree) / f"{SCENE_WITH_FILES}_cgls.tif"
    os.mkfifo(victim)
    return victim


def archive_unpacked_twice(tree):
    again = tree / "zz-unpacked-again"
    again.mkdir()
    shutil.copytree(scene_dir(tree), again / scene_dir(tree).name)
    return again / scene_dir(tree).name / f"{SCENE_WITH_FILES}_s2.tif"


def md5_mismatch_after_pixel_change(tree):
    victim = modality_file(tree, "dsm")
    ds = gdal.Open(str(victim), gdal.GA_Update)
    band = ds.GetRasterBand(1)
    band.WriteArray(np.full((5, 5), 4321, dtype=np.int16))
    ds = None
    return victim


def md5_wrong_in_listing(tree):
    victim = modality_file(tree, "s1")
    set_md5(tree, victim, "0" * 32)
    return victim


def md5_malformed_line(tree):
    with open(tree / "md5sums.txt", "a") as listing:
        listing.write("not-a-checksum train/29_390/390_s2.tif\n")
    return tree / "md5sums.txt"


def metadata_trailing_garbage(tree):
    with_metadata(tree, lambda lines: lines + ["\x00\x00PK garbage after the document\n"])
    return tree / "sen12tp-metadata.json"


def metadata_nan_coordinate(tree):
    with_metadata(tree, lambda lines: [l.replace("-70.414611646364563", "NaN") for l in lines])
    return tree / "sen12tp-metadata.json"


def metadata_truncated(tree):
    with_metadata(tree, lambda lines: lines[: len(lines) // 2])
    return tree / "sen12tp-metadata.json"


def metadata_missing_key(tree):
    with_metadata(tree, edit_feature(SCENE_WITH_FILES, lambda f: f["properties"].pop("month")))
    return tree / "sen12tp-metadata.json"


def metadata_wrong_type(tree):
    with_metadata(tree, edit_feature(SCENE_WITHOUT_FILES, lambda f: f["properties"].update(s2_timestamp_ms="yesterday")))
    return tree / "sen12tp-metadata.json"


def metadata_out_of_range_coordinate(tree):
    def change(feature):
        feature["geometry"]["coordinates"][0][1][1] = 123.0
    with_metadata(tree, edit_feature(SCENE_WITHOUT_FILES, change))
    return tree / "sen12tp-metadata.json"


def metadata_point_geometry(tree):
    with_metadata(tree, edit_feature(SCENE_WITHOUT_FILES, lambda f: f.update(geometry={"type": "Point", "coordinates": [0, 0]})))
    return tree / "sen12tp-metadata.json"


def metadata_duplicate_scene_id(tree):
    def edit(lines):
        duplicate = next(l for l in lines if f'"scene_id": {SCENE_WITHOUT_FILES},' in l)
        return lines[:4] + [duplicate] + lines[4:]
    with_metadata(tree, edit)
    return tree / "sen12tp-metadata.json"


CASES = [
    (truncated_tiff, "read", "read error in band 1 at rows 0..", FILES - 1),
    (zero_byte_tiff, "read", "cannot open", FILES - 1),
    (blocks_larger_than_the_raster, "read", "claims blocks of 65535 x 256 px (415 MiB of all bands) for a raster of 240 x 240 px", FILES - 1),
    (not_a_tiff, "read", "as a GeoTIFF", FILES - 1),
    (wrong_band_count, "read", "wrong band count: 3 bands, expected 5", FILES - 1),
    (wrong_dtype_s2, "read", "wrong data type: Byte, expected one of UInt16", FILES - 1),
    (wrong_dtype_worldcover, "read", "wrong data type: Float32", FILES - 1),
    (empty_scene_folder, "discover", "scene folder has no files", FILES - 4),
    (stray_file_name, "discover", "file name is not 390_<modality>.tif", FILES),
    (dangling_symlink, "discover", "cannot stat", FILES),
    (symlink_loop, "discover", "Too many levels of symbolic links", FILES),
    (folder_symlink_loop, "discover", "symlinked folder not followed", FILES),
    (symlink_out_of_the_tree, "discover", "symlink leads outside the data folder", FILES),
    (fifo, "discover", "not a regular file", FILES),
    (archive_unpacked_twice, "discover", f"a second copy of scene {SCENE_WITH_FILES}'s s2: train/29_390/390_s2.tif is the one", FILES),
    (md5_mismatch_after_pixel_change, "checksum", "checksum mismatch: expected", FILES),
    (md5_wrong_in_listing, "checksum", "checksum mismatch: expected 00000000", FILES),
    (md5_malformed_line, "discover", "line 33 is not '<md5>  <path>'", FILES),
    (metadata_trailing_garbage, "metadata", "after the end of the JSON document", FILES),
    (metadata_nan_coordinate, "metadata", "not valid JSON", FILES),
    (metadata_truncated, "metadata", "not valid JSON", FILES),
    (metadata_missing_key, "metadata", 'missing key "month"', FILES - 4),
    (metadata_wrong_type, "metadata", '"s2_timestamp_ms" is not an integer', FILES),
    (metadata_out_of_range_coordinate, "metadata", "position out of range", FILES),
    (metadata_point_geometry, "metadata", 'geometry type is "Point", expected "Polygon"', FILES),
    (metadata_duplicate_scene_id, "metadata", f"duplicate scene_id {SCENE_WITHOUT_FILES}", FILES),
]


@pytest.fixture(scope="module")
def clean(tp_tree, tmp_path_factory):
    """The undamaged tree's catalog: scenes by name, and its file rows."""
    db = tmp_path_factory.mktemp("clean") / "c.db"
    run("ingest", tp_tree, "--db", db)
    conn = connect(db)
    return {r["path"]: tuple(r) for r in conn.execute("SELECT f.path, f.bytes, f.width, f.dtype, b.min, b.max, b.mean "
                                                       "FROM files f JOIN band_stats b USING (scene_id, modality) WHERE b.band = 1")}


@pytest.mark.parametrize("damage,stage,message,files", CASES, ids=[c[0].__name__ for c in CASES])
def test_a_bad_input_is_recorded_and_everything_else_is_ingested(damage, stage, message, files, tp_copy, tmp_path, clean):
    damaged = damage(tp_copy)
    db = tmp_path / "c.db"
    result = ingest(tp_copy, db)
    assert result.returncode == 1, "a damaged input must make the exit status say so"
    found = errors(db)
    relative = str(damaged.relative_to(tp_copy))
    assert any(path == relative and s == stage and message in m for path, s, m in found), found
    assert file_count(db) == files
    # What was not damaged is catalogued exactly as from the clean tree.
    conn = connect(db)
    rows = {r["path"]: tuple(r) for r in conn.execute("SELECT f.path, f.bytes, f.width, f.dtype, b.min, b.max, b.mean "
                                                       "FROM files f JOIN band_stats b USING (scene_id, modality) WHERE b.band = 1")}
    untouched = {p: row for p, row in clean.items() if not p.startswith(str(scene_dir(tp_copy).relative_to(tp_copy)))}
    assert {p: rows.get(p) for p in untouched} == untouched
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_metadata_errors_leave_the_other_scenes_and_fall_back_to_the_published_file(tp_copy, tmp_path):
    metadata_nan_coordinate(tp_copy)
    db = tmp_path / "c.db"
    ingest(tp_copy, db)
    conn = connect(db)
    assert conn.execute("SELECT count(*) FROM scenes").fetchone()[0] == 2319
    message = conn.execute("SELECT message FROM ingest_errors WHERE stage = 'metadata'").fetchone()[0]
    assert "using the embedded copy of the published metadata instead" in message
    # Fixing the file clears its error on the next run.
    (tp_copy / "sen12tp-metadata.json").write_text(METADATA.read_text())
    assert ingest(tp_copy, db).returncode == 0
    assert errors(db) == []


def test_a_symlink_out_of_the_tree_is_catalogued_when_allowed(tp_copy, tmp_path):
    victim = symlink_out_of_the_tree(tp_copy)
    db = tmp_path / "c.db"
    assert ingest(tp_copy, db, "--follow-symlinks").returncode == 0
    paths = [r[0] for r in connect(db).execute("SELECT path FROM files")]
    assert str(victim.relative_to(tp_copy)) in paths and len(paths) == FILES + 1


def gdal_means(path):
    """Each band's mean as GDAL's own statistics give it, or GDAL's error."""
    dataset = gdal.Open(str(path))
    try:
        return [dataset.GetRasterBand(i).ComputeStatistics(False)[2] for i in range(1, dataset.RasterCount + 1)]
    except RuntimeError as e:
        return str(e)


@pytest.mark.parametrize("layout", ["sen12tp", "sen12ms"])
def test_a_tile_failing_its_zlib_checksum_reads_as_gdal_reads_it(layout, tp_copy, tmp_path):
    """The ingest decompresses tiles itself and checks zlib's checksum; a tile that fails it is left
    to GDAL, whose libtiff reads it unchecked in some files (the one partial tile of the fixture's
    240 px SEN12TP scene) and refuses it in others (a 256 px SEN12MS patch). The catalog follows
    GDAL either way: GDAL's means, or a read error with GDAL's message."""
    if layout == "sen12tp":
        tree, victim = tp_copy, modality_file(tp_copy, "s2")
    else:
        tree = tmp_path / "ms"
        run("synth", tree, "--layout", "sen12ms", "--scenes", 1, "--size", 256)
        victim = next(tree.rglob("*_s2_*.tif"))
    invert_first_tile_checksum(victim)
    expected = gdal_means(victim)
    db = tmp_path / "c.db"
    ingest(tree, db, "--no-checksums")
    relative = str(victim.relative_to(tree))
    means = [r[0] for r in connect(db).execute("SELECT b.mean FROM files f JOIN band_stats b USING (scene_id, modality) "
                                               "WHERE f.path = ? ORDER BY b.band", [relative])]
    if isinstance(expected, str):
        assert means == [] and "TIFFReadEncodedTile() failed" in expected, expected
        gdals = expected[expected.index("band 1: "):]  # after the path, which GDAL names as it was opened
        assert any(path == relative and stage == "read" and gdals in message for path, stage, message in errors(db))
    else:
        assert means == pytest.approx(expected, rel=1e-12) and len(means) == 13, (means, expected)
        assert errors(db) == []


def test_checksums_can_be_skipped(tp_copy, tmp_path):
    md5_mismatch_after_pixel_change(tp_copy)
    assert ingest(tp_copy, tmp_path / "c.db", "--no-checksums").returncode == 0


def test_an_unreadable_file_is_recorded(tp_tree):
    """Permissions do not stop root, so the ingest runs as `nobody` when the tests run as root."""
    work = tempfile.mkdtemp(prefix="s12-unreadable-")
    try:
        tree = shutil.copytree(tp_tree, os.path.join(work, "data"))
        os.chmod(work, 0o777)
        from pathlib import Path
        tree = Path(tree)
        victim = modality_file(tree, "s2")
        os.chmod(victim, 0)
        db = Path(work) / "c.db"
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
        result = subprocess.run([*prefix, BIN, "ingest", str(tree), "--db", str(db)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, result.stderr
        found = errors(db)
        assert any(p == str(victim.relative_to(tree)) and s == "read" and "cannot open" in m for p, s, m in found), found
        assert file_count(db) == FILES - 1
    finally:
        shutil.rmtree(work)
