"""A catalog someone sent you cannot make the extension read outside its data root, through GDAL's
virtual file systems or with another GDAL driver, nor call a file-reading function from a view or
trigger. Each case edits a private copy of the test catalog as an attacker would and runs the
user's query in the stock sqlite3 shell, whose session must survive with a clear error."""
import os
import shutil
import subprocess

import sqlite3

import pytest
from osgeo import gdal

from conftest import EXT, connect, data_root, load

gdal.UseExceptions()
SCENE = 390
READ = f"SELECT length(s12_window({SCENE}, 's2', 'B4', 0, 0, 4, 4));"


def shell(db, sql, **env):
    """Runs `sql` after .load in /usr/bin/sqlite3; returns (stdout, stderr)."""
    result = subprocess.run(["/usr/bin/sqlite3", str(db)], input=f".load {EXT}\n{sql}\nSELECT 'alive';\n",
                            capture_output=True, text=True, timeout=60, env={**os.environ, **env})
    assert result.stdout.strip().endswith("alive"), f"the shell died: {result.stderr}"
    return result.stdout, result.stderr


def point_s2_at(db, path):
    conn = connect(db)
    conn.execute("UPDATE files SET path = ? WHERE scene_id = ? AND modality = 's2'", (path, SCENE))
    conn.commit()


@pytest.fixture
def outside_tif(tmp_path, tp_db):
    """A real GeoTIFF of the user's that lies outside the data root."""
    root = data_root(tp_db)
    source = connect(tp_db).execute("SELECT path FROM files WHERE scene_id = ? AND modality = 's2'", (SCENE,)).fetchone()[0]
    target = tmp_path / "private" / "secret.tif"
    target.parent.mkdir()
    shutil.copy(os.path.join(root, source), target)
    return target


@pytest.mark.parametrize("path,message", [
    ("../../private/secret.tif", "is not a plain path inside data_root"),
    ("train/../../private/secret.tif", "is not a plain path inside data_root"),
    ("/etc/passwd", "is not a plain path inside data_root"),
    ("/vsicurl/http://127.0.0.1:9/x.tif", "is not a plain path inside data_root"),
    ("/vsizip//tmp/x.zip/x.tif", "is not a plain path inside data_root"),
    ("train/vsizip/../x.tif", "is not a plain path inside data_root"),
])
def test_paths_that_escape_the_root_are_refused(tp_db_copy, path, message):
    point_s2_at(tp_db_copy, path)
    out, err = shell(tp_db_copy, READ)
    assert f"s12_window: path '{path}' {message}" in err, err


def test_a_symlink_out_of_the_root_is_refused_unless_the_user_allows_it(tp_db_copy, outside_tif):
    root = data_root(tp_db_copy)
    link = os.path.join(root, "train", "escape.tif")
    os.symlink(outside_tif, link)
    try:
        point_s2_at(tp_db_copy, "train/escape.tif")
        out, err = shell(tp_db_copy, READ)
        assert "s12_window: path 'train/escape.tif' leads outside data_root" in err and "SEN12LITE_FOLLOW_SYMLINKS=1" in err, err
        out, err = shell(tp_db_copy, READ, SEN12LITE_FOLLOW_SYMLINKS="1")
        assert out.splitlines()[0] == "160" and not err, err  # a 4 x 4 uint16 .npy: 128-byte header + 32
    finally:
        os.unlink(link)


def test_a_foreign_data_root_is_overridden_by_the_users_environment(tp_db_copy, tmp_path):
    root = data_root(tp_db_copy)
    conn = connect(tp_db_copy)
    conn.execute("UPDATE s12_meta SET value = '/' WHERE key = 'data_root'")
    conn.commit()
    out, err = shell(tp_db_copy, READ)
    # The message names the catalog's relative path, never a folder of the machine.
    assert "s12_window: file 'train/" in err and "is not on disk under data_root" in err, err
    out, err = shell(tp_db_copy, READ, SEN12LITE_DATA_ROOT=root)
    assert out.splitlines()[0] == "160" and not err, err


def test_a_connection_does_not_trust_a_file_it_resolved_before(tp_copy, tmp_path, outside_tif):
    """A connection remembers where a scene's file is; a file swapped for a symlink out of the
    root, a catalog changed by another connection, or another SEN12LITE_DATA_ROOT is seen at once."""
    db = tmp_path / "own.db"
    subprocess.run([os.environ.get("S12_BIN", "sen12lite"), "ingest", str(tp_copy), "--db", str(db)],
                   check=True, capture_output=True)
    (relative,), = connect(db).execute("SELECT path FROM files WHERE scene_id = ? AND modality = 's2'", (SCENE,))
    reader = load(db)
    read = READ.rstrip(";")
    assert reader.execute(read).fetchone() == (160,)
    real = tp_copy / relative
    moved = real.with_suffix(".moved")
    real.rename(moved)
    real.symlink_to(outside_tif)
    with pytest.raises(sqlite3.OperationalError, match=f"s12_window: path '{relative}' leads outside data_root"):
        reader.execute(read).fetchone()
    real.unlink()
    moved.rename(real)
    assert reader.execute(read).fetchone() == (160,)
    point_s2_at(db, "train/not-there.tif")  # another connection commits
    with pytest.raises(sqlite3.OperationalError, match="s12_window: file 'train/not-there.tif' is not on disk"):
        reader.execute(read).fetchone()
    point_s2_at(db, relative)
    assert reader.execute(read).fetchone() == (160,)
    reader.execute("UPDATE files SET path = 'train/gone.tif' WHERE scene_id = ? AND modality = 's2'", (SCENE,))
    reader.commit()  # the reading connection's own commit
    with pytest.raises(sqlite3.OperationalError, match="s12_window: file 'train/gone.tif' is not on disk"):
        reader.execute(read).fetchone()
    point_s2_at(db, relative)
    assert reader.execute(read).fetchone() == (160,)
    os.environ["SEN12LITE_DATA_ROOT"] = str(tmp_path / "elsewhere")
    try:
        with pytest.raises(sqlite3.OperationalError, match="s12_window: data_root is not on disk"):
            reader.execute(read).fetchone()
    finally:
        del os.environ["SEN12LITE_DATA_ROOT"]
    assert reader.execute(read).fetchone() == (160,)


@pytest.mark.parametrize("kind", ["vrt", "png", "text"])
def test_files_gdal_would_open_with_another_driver_are_refused(tp_db_copy, outside_tif, kind):
    """A VRT can point GDAL at any file (even as raw bytes); only the GTiff driver may open ours."""
    root = data_root(tp_db_copy)
    name = f"train/disguised-{kind}.tif"
    target = os.path.join(root, name)
    if kind == "vrt":
        gdal.Translate(target, str(outside_tif), format="VRT")
    elif kind == "png":
        gdal.Translate(target, str(outside_tif), format="PNG", bandList=[4])
    else:
        with open(target, "w") as f:
            f.write("x,y\n1,2\n")
    try:
        point_s2_at(tp_db_copy, name)
        out, err = shell(tp_db_copy, READ)
        assert f"s12_window: cannot open {name} as a GeoTIFF" in err and root not in err, err
    finally:
        # GDAL's PNG driver (in this test's own GDAL) writes georeferencing beside the file.
        for leftover in (target, target + ".aux.xml"):
            if os.path.exists(leftover):
                os.unlink(leftover)


def test_a_trigger_in_a_foreign_catalog_cannot_read_files(tp_db_copy):
    conn = connect(tp_db_copy)
    conn.executescript(f"""
        CREATE TABLE notes (text TEXT);
        CREATE TABLE loot (data BLOB);
        CREATE TRIGGER steal AFTER INSERT ON notes BEGIN
          INSERT INTO loot SELECT s12_window({SCENE}, 's2', '*', 0, 0, 240, 240);
        END;
        CREATE TRIGGER steal_rows AFTER INSERT ON notes BEGIN
          INSERT INTO loot SELECT value FROM s12_pixels({SCENE}, 's2', 0, 0, 8, 8);
        END;
    """)
    conn.commit()
    out, err = shell(tp_db_copy, "INSERT INTO notes VALUES ('hello');\nSELECT count(*) FROM loot;")
    assert "unsafe use of s12_window()" in err or "unsafe use of virtual table \"s12_pixels\"" in err, err
    assert connect(tp_db_copy).execute("SELECT count(*) FROM loot").fetchone()[0] == 0
