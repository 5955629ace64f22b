"""A data root on a network file system: the catalog's files served on 127.0.0.1 by an HTTP server
with byte ranges (read through GDAL's /vsicurl/) and by moto's S3-compatible server (/vsis3/),
when the operator allows the root in $SEN12LITE_ALLOW_REMOTE. The oracle is the same call on the
local tree."""
import sqlite3
from contextlib import closing

import pytest

from conftest import remote, shell

WINDOWS = [
    "SELECT hex(s12_window(390, 's2', 'B4,B3,B2', 10, 20, 64, 48))",
    "SELECT hex(s12_window(390, 's1', '*', 0, 0, 240, 240))",
    "SELECT hex(s12_window('1008_455', 'worldcover', 1, 100, 100, 50, 50))",
    "SELECT col, row, round(cloud_fraction, 6), round(ndvi_mean, 6) FROM s12_patches(390, 64, 64)",
]


@pytest.mark.parametrize("sql", WINDOWS)
def test_reads_over_http_equal_the_local_reads(tp_db, server, sql):
    code, local, err = shell(tp_db, sql)
    assert code == 0 and local.strip(), err
    root = remote(server)
    code, got, err = shell(tp_db, sql, SEN12LITE_DATA_ROOT=root, SEN12LITE_ALLOW_REMOTE=root)
    assert code == 0 and got == local, err


@pytest.mark.parametrize("sql", WINDOWS)
def test_reads_from_an_s3_bucket_equal_the_local_reads(tp_db, s3, sql):
    code, local, err = shell(tp_db, sql)
    assert code == 0 and local.strip(), err
    code, got, err = shell(tp_db, sql, SEN12LITE_DATA_ROOT=s3.root, SEN12LITE_ALLOW_REMOTE="/vsis3/sen12", **s3.gdal_env)
    assert code == 0 and got == local, err


def test_a_catalogs_remote_root_is_read_only_under_an_allowed_prefix(tp_db_copy, server):
    root = remote(server)
    with closing(sqlite3.connect(tp_db_copy)) as conn:
        conn.execute("UPDATE s12_meta SET value = ? WHERE key = 'data_root'", (root,))
        conn.commit()
    sql = "SELECT length(s12_window(390, 's2', 'B4', 0, 0, 8, 8))"
    refused = "s12_window: data_root is on /vsicurl/: set SEN12LITE_ALLOW_REMOTE to a prefix of it to read from there"
    for allowed in ["", "/vsicurl/", root[:-1], f"{root}/other", "/vsis3/bucket"]:
        code, out, err = shell(tp_db_copy, sql, SEN12LITE_ALLOW_REMOTE=allowed)
        assert code != 0 and refused in err and "127.0.0.1" not in err, (allowed, err)
    for allowed in [root, f"{root}/", f"/vsis3/bucket, {root}"]:
        code, out, err = shell(tp_db_copy, sql, SEN12LITE_ALLOW_REMOTE=allowed)
        assert code == 0 and out.strip() == str(8 * 8 * 2 + 128), (allowed, err)


def test_other_virtual_roots_are_refused(tp_db):
    code, _, err = shell(tp_db, "SELECT s12_window(390, 's2', 'B4', 0, 0, 1, 1)",
                         SEN12LITE_DATA_ROOT="/vsimem/tree", SEN12LITE_ALLOW_REMOTE="/vsimem/tree")
    assert code != 0 and "s12_window: data_root is a GDAL virtual path that cannot be a data root" in err, err


def test_a_missing_object_and_a_server_error_are_sql_errors(tp_db, tp_tree, server):
    root = remote(server)
    code, _, err = shell(tp_db, "SELECT s12_window(390, 's2', 'B4', 0, 0, 8, 8)",
                         SEN12LITE_DATA_ROOT=f"{root}/nowhere", SEN12LITE_ALLOW_REMOTE=root)
    assert code == 1 and "s12_window: cannot read train/29_390/390_s2.tif: no such object" in err, err
    with closing(sqlite3.connect(tp_db)) as conn:
        (path,), = conn.execute("SELECT path FROM files WHERE scene_id = 390 AND modality = 's1'").fetchall()
    server.failing.add(path)
    try:
        code, _, err = shell(tp_db, "SELECT s12_window(390, 's1', 'VV', 0, 0, 8, 8)",
                             SEN12LITE_DATA_ROOT=root, SEN12LITE_ALLOW_REMOTE=root)
    finally:
        server.failing.discard(path)
    assert code == 1 and err.startswith("Error") and "s12_window:" in err and "127.0.0.1" not in err, err


def test_bytes_fetched_for_one_window(tp_db, tp_tree, server):
    root = remote(server)
    before = server.bytes_sent
    code, out, err = shell(tp_db, "SELECT length(s12_window(390, 's2', '*', 0, 0, 64, 64))",
                           SEN12LITE_DATA_ROOT=root, SEN12LITE_ALLOW_REMOTE=root)
    fetched = server.bytes_sent - before
    with closing(sqlite3.connect(tp_db)) as conn:
        (size,), = conn.execute("SELECT bytes FROM files WHERE scene_id = 390 AND modality = 's2'").fetchall()
    print(f"\na 64 px window of 13 bands over /vsicurl/: {fetched} bytes fetched of a {size}-byte file")
    assert code == 0 and 0 < fetched <= size + 16384, (fetched, size, err)


def test_a_missing_s3_object_is_an_sql_error(tp_db, s3):
    code, _, err = shell(tp_db, "SELECT s12_window(390, 's2', 'B4', 0, 0, 8, 8)", SEN12LITE_DATA_ROOT="/vsis3/sen12/nowhere",
                         SEN12LITE_ALLOW_REMOTE="/vsis3/sen12", **s3.gdal_env)
    assert code == 1 and "s12_window: cannot read train/29_390/390_s2.tif: no such object" in err, err
