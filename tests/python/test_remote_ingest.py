"""`sen12lite ingest` of a tree in object storage: the test tree in moto's S3-compatible server and
behind an HTTP server with byte ranges but no folder listing (its md5sums.txt names the files), both
on 127.0.0.1. The oracle is the local ingest of the same tree (the catalog's content hash) and the
extension's reads of the local files."""
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing


from conftest import BIN, content_hash, data_root, remote, shell
from servers import RangeServer

WINDOWS = [
    "SELECT hex(s12_window(390, 's2', 'B4,B3,B2', 10, 20, 64, 48))",
    "SELECT col, row, round(cloud_fraction, 6) FROM s12_patches('1008_455', 80, 80)",
]


def ingest(root, db, *flags, **env):
    """The ingest command with `env` added and without the operator's own allow-list."""
    environment = {k: v for k, v in os.environ.items() if k != "SEN12LITE_ALLOW_REMOTE"}
    return subprocess.run([BIN, "ingest", str(root), "--db", str(db), *flags], capture_output=True, text=True,
                          env={**environment, **env}, timeout=300)


def errors(db):
    with closing(sqlite3.connect(db)) as conn:
        return {path: (stage, message) for path, stage, message in
                conn.execute("SELECT path, stage, message FROM ingest_errors")}


def test_an_ingest_from_s3_is_the_local_ingest_and_the_extension_reads_from_there(tp_db, s3, tmp_path):
    db = tmp_path / "s3.db"
    result = ingest(s3.root, db, SEN12LITE_ALLOW_REMOTE="/vsis3/sen12/", **s3.gdal_env)
    assert result.returncode == 0, result.stderr
    assert content_hash(db) == content_hash(tp_db)
    assert data_root(db) == s3.root
    for sql in WINDOWS:
        code, local, err = shell(tp_db, sql)
        assert code == 0 and local.strip(), err
        code, got, err = shell(db, sql, SEN12LITE_ALLOW_REMOTE=s3.root, **s3.gdal_env)
        assert code == 0 and got == local, (sql, err)
    again = ingest(s3.root, db, SEN12LITE_ALLOW_REMOTE="/vsis3/sen12/", **s3.gdal_env)
    assert again.returncode == 0 and " 0 scanned, 32 unchanged" in again.stdout, again.stdout + again.stderr


def test_an_http_tree_without_a_listing_is_named_by_its_md5sums(tp_db, server, tmp_path):
    db = tmp_path / "http.db"
    result = ingest(remote(server), db, "--allow-remote")
    assert result.returncode == 0, result.stderr
    assert content_hash(db) == content_hash(tp_db)
    assert data_root(db) == remote(server)


def test_a_remote_tree_needs_the_operators_permission(server, tmp_path):
    db = tmp_path / "refused.db"
    root = remote(server)
    for env in [{}, {"SEN12LITE_ALLOW_REMOTE": "/vsicurl/"}, {"SEN12LITE_ALLOW_REMOTE": f"{root}/other"}]:
        result = ingest(root, db, **env)
        assert result.returncode == 2, (env, result.stderr)
        assert f"ingest: {root} is on /vsicurl/: pass --allow-remote, or list a prefix of it in " \
               "SEN12LITE_ALLOW_REMOTE, to ingest from there" in result.stderr, result.stderr
    assert not db.exists()
    result = ingest("/vsimem/tree", db, "--allow-remote")
    assert result.returncode == 2 and "ingest: /vsimem/tree: data_root is a GDAL virtual path that cannot be a " \
                                      "data root (allowed: /vsis3/, /vsigs/, /vsiaz/, /vsicurl/)" in result.stderr
    assert ingest(root, db, SEN12LITE_ALLOW_REMOTE=f"/vsis3/b, {root}").returncode == 0


def test_local_and_remote_are_not_mixed(tp_tree, tp_db_copy, server, tmp_path):
    root = remote(server)
    result = ingest(root, tp_db_copy, "--allow-remote")
    assert result.returncode == 2, result.stderr
    assert f"ingest: this catalog indexes {tp_tree.resolve()}; a catalog holds one tree, all on a local disk or " \
           f"all in object storage, so {root} cannot join it: use another --db" in result.stderr, result.stderr
    assert data_root(tp_db_copy) == str(tp_tree.resolve())
    remote_db = tmp_path / "remote.db"
    assert ingest(root, remote_db, "--allow-remote").returncode == 0
    result = ingest(tp_tree, remote_db)
    assert result.returncode == 2 and f"ingest: this catalog indexes {root};" in result.stderr, result.stderr
    result = subprocess.run([BIN, "ingest", str(tp_tree / "a.zip"), root, "--db", str(tmp_path / "m.db"),
                             "--allow-remote"], capture_output=True, text=True)
    assert result.returncode == 2 and f"ingest: {root} is in object storage: a remote tree is ingested whole, " \
                                      "from its root alone, and not mixed with other paths" in result.stderr


def test_a_missing_object_a_server_error_and_a_wrong_checksum_are_ingest_errors(tp_tree, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(tp_tree, tree)
    (tree / "train/29_390/390_s1.tif").unlink()
    listing = tree / "md5sums.txt"
    tampered = "train/1008_455/455_dsm.tif"
    lines = [("0" * 32 + line[32:]) if line.endswith(f"{tampered}\n") else line
             for line in listing.read_text().splitlines(keepends=True)]
    outside = ["0" * 32 + "  ../secret.tif\n", "0" * 32 + "  /vsis3/other/1_2/2_s2.tif\n"]
    listing.write_text("".join(lines + outside))
    with RangeServer(tree) as http:
        http.failing.add("train/29_390/390_s2.tif")
        db = tmp_path / "faulty.db"
        result = ingest(remote(http), db, "--allow-remote")
        url = http.url()
    assert result.returncode == 1 and "3 failed" in result.stdout, result.stdout + result.stderr
    found = errors(db)
    assert found["train/29_390/390_s1.tif"] == ("discover", "cannot stat: no such file or object")
    assert found["train/29_390/390_s2.tif"] == (
        "discover", f"cannot stat: HTTP response code on {url}train/29_390/390_s2.tif: 500")
    stage, message = found[tampered]
    assert stage == "checksum" and message.startswith(f"checksum mismatch: expected {'0' * 32}, found "), message
    with closing(sqlite3.connect(db)) as conn:
        (files,), = conn.execute("SELECT count(*) FROM files").fetchall()
    assert files == 30 and not any("secret" in path or "other" in path for path in found)


def test_a_headers_only_ingest_fetches_little_of_the_rasters(tp_tree, tmp_path):
    rasters = sum(p.stat().st_size for p in tp_tree.rglob("*.tif"))
    side_files = sum((tp_tree / name).stat().st_size for name in ["sen12tp-metadata.json", "md5sums.txt"])
    with RangeServer(tp_tree) as http:
        result = ingest(remote(http), tmp_path / "headers.db", "--allow-remote", "--no-stats", "--no-checksums")
        headers_only = http.bytes_sent - side_files
        http.bytes_sent = 0
        assert ingest(remote(http), tmp_path / "full.db", "--allow-remote").returncode == 0
        full = http.bytes_sent - side_files
    assert result.returncode == 0, result.stderr
    print(f"\nraster bytes fetched over /vsicurl/: {headers_only} headers only, {full} with statistics, "
          f"of {rasters} on disk")
    assert headers_only < 0.2 * rasters <= full
