"""A SEN12MS-scale catalog for the benches: the real dataset has 180,662 triplets.

`build(db)` synthesizes BASE triplets of 256 px (real SEN12MS files, `sen12lite synth`) once into
bench-data/sen12ms-base, ingests them with statistics, then repeats their rows (scenes, files,
band_stats with their quantile sketches, landcover, R*Tree) at other places until the catalog
holds SCENES scenes (a multiple of BASE): each copy moves the scene's footprint (GeoJSON and WKB), box and centre to a random place
(centre longitude in [-175, 175], latitude in [-60, 70], as the real ROIs spread), keeps its times, and names it `{name}_c{k}` with files under `copy{k}/` (not on disk: what the
catalog-only functions read is all there). The catalog is then what a full SEN12MS ingest would
write, row for row, apart from the pixel values repeating.
"""
import json
import os
import random
import shutil
import sqlite3
import struct
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = os.environ.get("S12_BIN", str(ROOT / "target/release/sen12lite"))
BASE_DATA = ROOT / "bench-data" / "sen12ms-base"
BASE = int(os.environ.get("BENCH_BASE_TRIPLETS", "300"))
SCENES = int(os.environ.get("BENCH_CATALOG_SCENES", "180000"))


def base_tree():
    """The synthesized triplets (once)."""
    if not (BASE_DATA / "done").exists():
        shutil.rmtree(BASE_DATA, ignore_errors=True)
        subprocess.run([BIN, "synth", str(BASE_DATA), "--layout", "sen12ms", "--scenes", str(BASE), "--seed", "11"],
                       check=True, capture_output=True)
        (BASE_DATA / "done").touch()
    return BASE_DATA


def moved_scene(row, columns, k, dlon, dlat):
    """A copy of a scenes row `k`, moved by (dlon, dlat)."""
    scene = dict(zip(columns, row))
    scene["scene_id"] += k * 10_000_000_000
    scene["name"] = f"{scene['name']}_c{k}"
    for key in ("min_lon", "max_lon", "center_lon"):
        scene[key] += dlon
    for key in ("min_lat", "max_lat", "center_lat"):
        scene[key] += dlat
    footprint = json.loads(scene["footprint"])
    footprint["coordinates"] = [[[x + dlon, y + dlat] for x, y in ring] for ring in footprint["coordinates"]]
    scene["footprint"] = json.dumps(footprint)
    ring = footprint["coordinates"][0]
    scene["geom"] = struct.pack(f"<BIII{2 * len(ring)}d", 1, 3, 1, len(ring), *(v for point in ring for v in point))
    return scene


def copy_rows(conn, k, offset):
    """The files, band_stats and landcover rows of the base scenes, for copy `k`."""
    shift = k * 10_000_000_000
    conn.execute("INSERT INTO files SELECT scene_id + ?1, modality, 'copy' || ?2 || '/' || path, bytes, mtime, width, "
                 "height, band_count, dtype, nodata, epsg, geotransform, stats FROM files WHERE scene_id < ?3",
                 (shift, k, offset))
    conn.execute("INSERT INTO band_stats SELECT scene_id + ?1, modality, band, band_name, valid_count, nodata_count, "
                 "min, max, mean, stddev, p02, p50, p98, sketch FROM band_stats WHERE scene_id < ?2", (shift, offset))
    conn.execute("INSERT INTO landcover SELECT scene_id + ?1, source, class, label, fraction FROM landcover "
                 "WHERE scene_id < ?2", (shift, offset))


def build(db):
    """Writes the catalog to `db` (a path); returns the number of scenes."""
    db = Path(db)
    subprocess.run([BIN, "ingest", str(base_tree()), "--db", str(db)], check=True, capture_output=True)
    conn = sqlite3.connect(db)
    cursor = conn.execute("SELECT * FROM scenes ORDER BY scene_id")
    columns = [d[0] for d in cursor.description]
    base = cursor.fetchall()
    rtree = {r[0]: r[5:] for r in conn.execute("SELECT * FROM scenes_rtree")}
    rng = random.Random(5)
    insert = f"INSERT INTO scenes ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    with conn:
        centre = (columns.index("center_lon"), columns.index("center_lat"))
        for k in range(1, SCENES // len(base)):
            copies = [moved_scene(row, columns, k, rng.uniform(-175, 175) - row[centre[0]],
                                  rng.uniform(-60, 70) - row[centre[1]]) for row in base]
            conn.executemany(insert, [[c[name] for name in columns] for c in copies])
            conn.executemany("INSERT INTO scenes_rtree VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [(c["scene_id"], c["min_lon"], c["max_lon"], c["min_lat"], c["max_lat"],
                               *rtree[c["scene_id"] - k * 10_000_000_000]) for c in copies])
            copy_rows(conn, k, 10_000_000_000)
    count = conn.execute("SELECT count(*) FROM scenes").fetchone()[0]
    conn.close()
    return count
