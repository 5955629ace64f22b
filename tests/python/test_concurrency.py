"""8 readers, 4 threads here and 4 processes, query a catalog while `sen12lite ingest` adds the
second half of a tree to it: no SQLITE_BUSY reaches a reader, every committed state they see is
consistent, every s12_window equals GDAL's read of the same pixels, and the ingest ends with the
catalog an ingest without readers gives."""
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import BIN, EXT, connect, content_hash, run
from catalog_reader import read

READER = Path(__file__).with_name("catalog_reader.py")


def test_eight_readers_during_an_ingest_see_no_busy_and_consistent_answers(tmp_path):
    tree = tmp_path / "data"
    run("synth", tree, "--layout", "sen12tp", "--scenes", "24", "--size", "400", "--seed", "11")
    # A catalog of half the tree exists; the ingest under test adds the other half.
    held_back = tmp_path / "held-back"
    held_back.mkdir()
    scenes = sorted((tree / "train").iterdir())
    for scene in scenes[::2]:
        shutil.move(scene, held_back / scene.name)
    db = tmp_path / "c.db"
    run("ingest", tree, "--db", db, "--no-checksums")
    for scene in held_back.iterdir():
        shutil.move(scene, tree / "train" / scene.name)
    before = connect(db).execute("SELECT count(*) FROM files").fetchone()[0]

    stop = tmp_path / "stop"
    thread_counts = []
    threads = [threading.Thread(target=lambda s=seed: thread_counts.append(read(str(db), str(stop), s, EXT, reconnect=False)))
               for seed in range(4)]
    processes = [subprocess.Popen(["/usr/bin/python3", str(READER), str(db), str(stop), str(10 + seed), EXT],
                                  stdout=subprocess.PIPE, text=True) for seed in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    ingest = subprocess.run([BIN, "ingest", str(tree), "--db", str(db), "--no-checksums", "--jobs", "2"],
                            capture_output=True, text=True, timeout=600)
    time.sleep(1.0)  # readers also see the state after the ingest's last commit and close
    stop.touch()
    for t in threads:
        t.join(timeout=60)
    process_counts = [json.loads(p.communicate(timeout=60)[0]) for p in processes]

    assert ingest.returncode == 0, ingest.stderr
    counts = thread_counts + process_counts
    assert len(counts) == 8
    print(json.dumps(counts), file=sys.stderr)
    after = connect(db).execute("SELECT count(*) FROM files").fetchone()[0]
    assert after > before
    for c in counts:
        assert c["busy"] == 0 and c["inconsistent"] == 0 and c["mismatched"] == 0, c
        assert c["windows"] > 0 and c["catalog_queries"] > 0, c
    assert max(c["files_seen"] for c in counts) == after
    # Readers changed nothing: the catalog equals one ingested without them.
    alone = tmp_path / "alone.db"
    run("ingest", tree, "--db", alone, "--no-checksums")
    assert content_hash(db) == content_hash(alone)
