"""`sen12lite ingest --shard K/N` and `sen12lite merge`: the parts of a sharded ingest, merged,
are the catalog one ingest of the whole tree gives (every table, every row), with quicklooks,
patch grids, R*Tree and the errors of damaged inputs; each scene's files are in exactly one part; a
shard that stops leaves no part; merge refuses parts that do not belong together, naming the part,
and leaves OUT as it was when it refuses or fails. The oracle is the single ingest."""
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing

import pytest

from conftest import BIN, every_table, run, synth_tree

SHARDS = 3


def damaged(tree):
    """An S1 (or s1) file cut short, as an interrupted download leaves it: an ingest_errors row."""
    victim = sorted(p for p in tree.rglob("*.tif") if "s1" in p.name)[0]
    with open(victim, "r+b") as f:
        f.truncate(4096)
    return tree


@pytest.fixture(scope="module", params=["sen12tp", "sen12ms", "sen12ms-archives"])
def kind(request):
    return request.param


@pytest.fixture(scope="module")
def tree(kind, tmp_path_factory):
    if kind == "sen12tp":
        return damaged(synth_tree(tmp_path_factory, "sen12tp", scenes=9, size=260, seed=4))
    if kind == "sen12ms":
        return damaged(synth_tree(tmp_path_factory, "sen12ms", scenes=30, size=64, seed=6))
    return synth_tree(tmp_path_factory, "sen12ms", scenes=20, size=64, seed=7, extra=["--archives"])


@pytest.fixture(scope="module")
def single(tree, tmp_path_factory):
    db = tmp_path_factory.mktemp("single") / "catalog.db"
    run("ingest", tree, "--db", db, "--quicklooks", "all", check=False)
    return db


@pytest.fixture(scope="module")
def parts(tree, tmp_path_factory):
    folder = tmp_path_factory.mktemp("parts")
    paths = [folder / f"part{k}.db" for k in range(SHARDS)]
    for k, path in enumerate(paths):
        run("ingest", tree, "--db", path, "--shard", f"{k}/{SHARDS}", "--quicklooks", "all", check=False)
    return paths


def files_of(db):
    with closing(sqlite3.connect(db)) as conn:
        return {r[0] for r in conn.execute("SELECT path FROM files")}


def test_the_merged_parts_are_the_single_ingest_table_by_table(kind, single, parts, tmp_path):
    out = tmp_path / "merged.db"
    merged = run("merge", out, *parts)
    whole, joined = every_table(single), every_table(out)
    assert sorted(whole) == sorted(joined)
    for table in whole:
        assert joined[table] == whole[table], table
    assert whole["files"] and whole["band_stats"] and whole["quicklooks"] and whole["scenes_rtree"]
    assert whole["patches"] or kind != "sen12tp", "no patch of the authors' grid"
    assert whole["ingest_errors"] or kind == "sen12ms-archives", "the damaged file left no error row"
    assert f"merge: {SHARDS} parts into {out}: {len(whole['scenes'])} scenes, {len(whole['files'])} files" in merged.stdout
    assert not (tmp_path / "merged.db.merging").exists() and not (tmp_path / "merged.db-journal").exists()


def test_each_scene_s_files_are_in_exactly_one_part(single, parts):
    seen = [files_of(p) for p in parts]
    assert set().union(*seen) == files_of(single)
    assert sum(map(len, seen)) == len(files_of(single))
    with closing(sqlite3.connect(single)) as conn:
        scene_of = dict(conn.execute("SELECT path, scene_id FROM files"))
    owners = {}
    for k, paths in enumerate(seen):
        for path in paths:
            owners.setdefault(scene_of[path], set()).add(k)
    assert all(len(o) == 1 for o in owners.values()), owners


def test_a_shard_ingest_into_a_whole_catalog_is_refused_and_forgets_nothing(tree, single, tmp_path):
    db = tmp_path / "catalog.db"
    shutil.copy(single, db)
    before = db.read_bytes()
    refused = run("ingest", tree, "--db", db, "--shard", "1/3", check=False)
    assert refused.returncode == 2 and f"{db} is a whole catalog: --shard 1/3 would forget the files of the other shards" \
        in refused.stderr, refused.stderr
    assert db.read_bytes() == before


def test_a_part_of_another_shard_is_refused(tree, parts, tmp_path):
    db = tmp_path / "part.db"
    shutil.copy(parts[0], db)
    refused = run("ingest", tree, "--db", db, "--shard", f"1/{SHARDS}", check=False)
    assert refused.returncode == 2 and f"is part 0/{SHARDS}: --shard 1/{SHARDS}" in refused.stderr, refused.stderr


@pytest.mark.parametrize("text, message", [
    ("3/3", "'3/3': K must be below N (shards are 0-based: 0/3 to 2/3)"),
    ("1", "'1' is not K/N"), ("a/2", "'a/2' is not K/N"), ("0/0", "'0/0': K must be below N"),
])
def test_a_malformed_shard_is_refused(tree, tmp_path, text, message):
    refused = run("ingest", tree, "--db", tmp_path / "p.db", "--shard", text, check=False)
    assert refused.returncode == 2 and message in refused.stderr and not (tmp_path / "p.db").exists(), refused.stderr


def test_a_shard_stopped_by_a_failed_write_leaves_no_part_and_the_rerun_completes_it(tree, parts, fail_io, tmp_path):
    part = tmp_path / "part1.db"
    env = {**os.environ, "LD_PRELOAD": str(fail_io), "FAIL_WRITES_OF": "part1.db.partial-wal", "FAIL_WRITES_AFTER": "5"}
    stopped = subprocess.run([BIN, "ingest", str(tree), "--db", str(part), "--shard", f"1/{SHARDS}", "--quicklooks", "all",
                              "--batch-files", "2", "--jobs", "1"], capture_output=True, text=True, env=env)
    assert stopped.returncode != 0 and "an I/O error" in stopped.stderr, stopped.stderr
    assert not part.exists() and (tmp_path / "part1.db.partial").exists()
    refused = run("merge", tmp_path / "out.db", parts[0], tmp_path / "part1.db.partial", parts[2], check=False)
    assert refused.returncode == 2 and "part1.db.partial is still being written" in refused.stderr, refused.stderr
    run("ingest", tree, "--db", part, "--shard", f"1/{SHARDS}", "--quicklooks", "all", check=False)
    assert part.exists() and not (tmp_path / "part1.db.partial").exists()
    assert every_table(part) == every_table(parts[1])


def edited(source, folder, sql):
    copy = folder / f"edited-{abs(hash(sql))}.db"
    shutil.copy(source, copy)
    with closing(sqlite3.connect(copy)) as conn:
        conn.executescript(sql)
    return copy


def test_merge_refuses_parts_that_do_not_belong_together(parts, tree, tmp_path):
    """Each refusal names the part and the reason, exits 2, and writes nothing."""
    a, b, c = parts
    other_tree = synth_tree_for(tmp_path)
    other = tmp_path / "other.db"
    run("ingest", other_tree, "--db", other, "--shard", f"1/{SHARDS}")
    junk = tmp_path / "junk.db"
    junk.write_text("not a catalog")
    cases = {
        "missing": ([a, c], f"shard 1/{SHARDS} missing"),
        "twice": ([a, b, b, c], f"are both shard 1/{SHARDS}"),
        "another sharding": ([a, b, edited(c, tmp_path, "UPDATE s12_meta SET value = '2/4' WHERE key = 'shard'")],
                             "is shard 2/4, part"),
        "another tree": ([a, other, c], f"part {other} has data_root"),
        "another version": ([a, b, edited(c, tmp_path, "UPDATE s12_meta SET value = '3' WHERE key = 'schema_version'")],
                            "has schema version 3, this sen12lite writes 4: ingest its shard again"),
        "another loader": ([a, b, edited(c, tmp_path, "UPDATE s12_meta SET value = '0.0.1' WHERE key = 'loader_version'")],
                           "was written by sen12lite 0.0.1, this is"),
        "another threshold": ([a, b, edited(c, tmp_path, "UPDATE s12_meta SET value = '20' WHERE key = 'cloud_threshold'")],
                              "has cloud_threshold 20, part"),
        "not a catalog": ([a, junk, c], f"part {junk} is not a sen12lite catalog"),
        "no such part": ([a, tmp_path / "nowhere.db", c], "nowhere.db: no such file"),
    }
    for name, (given, message) in cases.items():
        out = tmp_path / f"out-{name.replace(' ', '-')}.db"
        refused = run("merge", out, *given, check=False)
        assert refused.returncode == 2 and message in refused.stderr and "merge: " in refused.stderr, (name, refused.stderr)
        assert not out.exists() and not list(tmp_path.glob("*.merging")), name


def synth_tree_for(folder):
    """A second tree of the same kind at another path: its parts are another catalog's."""
    out = folder / "other-tree"
    run("synth", out, "--layout", "sen12tp", "--scenes", "1", "--size", "64")
    return out


def test_merge_refuses_a_part_of_another_dataset_kind(tmp_path):
    ms, tp = tmp_path / "ms", tmp_path / "tp"
    run("synth", ms, "--layout", "sen12ms", "--scenes", "2", "--size", "32")
    run("synth", tp, "--layout", "sen12tp", "--scenes", "1", "--size", "64")
    ms_db = tmp_path / "ms.db"
    run("ingest", ms, "--db", ms_db, "--shard", "1/3")
    tp_dbs = [tmp_path / f"tp{k}.db" for k in (0, 2)]
    for k, db in zip((0, 2), tp_dbs):
        run("ingest", tp, "--db", db, "--shard", f"{k}/3")
    # The same data_root, as when a folder was emptied and another dataset put there.
    root = sqlite3.connect(tp_dbs[0]).execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]
    moved = edited(ms_db, tmp_path, f"UPDATE s12_meta SET value = '{root}' WHERE key = 'data_root'")
    refused = run("merge", tmp_path / "out.db", tp_dbs[0], moved, tp_dbs[1], check=False)
    assert refused.returncode == 2 and f"part {tp_dbs[0]} is a catalog of sen12tp, part {moved} of sen12ms" in refused.stderr, \
        refused.stderr


def test_a_merge_that_fails_leaves_the_existing_catalog_as_it_was(single, parts, tmp_path):
    """Two parts holding the same scene's files (the same shard relabelled): the merge fails at the
    second part's rows, and the catalog it would have replaced is byte for byte the same."""
    out = tmp_path / "catalog.db"
    shutil.copy(single, out)
    before = out.read_bytes()
    twin = edited(parts[0], tmp_path, f"UPDATE s12_meta SET value = '1/{SHARDS}' WHERE key = 'shard'")
    if not files_of(parts[0]):
        pytest.skip("shard 0 of this tree holds no file")
    failed = run("merge", out, parts[0], twin, parts[2], check=False)
    assert failed.returncode == 2 and f"merge: {twin}: UNIQUE constraint failed" in failed.stderr, failed.stderr
    assert out.read_bytes() == before and not (tmp_path / "catalog.db.merging").exists()
    merged = run("merge", out, *parts)
    assert merged.returncode == 0 and every_table(out) == every_table(single)


def test_merge_refuses_to_replace_a_catalog_of_another_tree(parts, tmp_path):
    other = tmp_path / "other.db"
    run("ingest", synth_tree_for(tmp_path), "--db", other)
    before = other.read_bytes()
    refused = run("merge", other, *parts, check=False)
    assert refused.returncode == 2 and f"{other} exists and indexes" in refused.stderr, refused.stderr
    assert other.read_bytes() == before
