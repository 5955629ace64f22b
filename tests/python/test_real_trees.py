"""Trees as users have them: SEN12MS in the other encodings in circulation (land cover in 16 bits,
S2 as Int16, S1 as Float64), class codes outside the legend, a triplet in both split lists, a
folder with nothing to ingest, and measures a dataset cannot give (NULL, never 0)."""

import numpy as np
import pytest
from osgeo import gdal

from conftest import connect, content, load, run, synth_tree
from oracles import re_encoded

gdal.UseExceptions()
IGNORED = {"files": {"dtype", "bytes"}}  # what a re-encoding changes, and nothing else may


def ingest(tree, db, *flags):
    return run("ingest", tree, "--db", db, "--jobs", 1, *flags, check=False)


def errors(db):
    return [tuple(r) for r in connect(db).execute("SELECT path, stage, message FROM ingest_errors ORDER BY path, message")]


def without(catalog, ignored):
    """`content` with the ignored columns of each table left out."""
    conn = connect(catalog)
    out = content(catalog)
    for table, columns in ignored.items():
        names = [c[1] for c in conn.execute(f"PRAGMA table_info({table})") if c[1] != "mtime"]
        keep = [i for i, name in enumerate(names) if name not in columns]
        out[table] = sorted(tuple(row[i] for i in keep) for row in out[table])
    return out


def test_every_encoding_of_sen12ms_gives_the_same_catalog(ms_tree, ms_db, tmp_path_factory, tmp_path):
    uint16_lc = synth_tree(tmp_path_factory, "sen12ms", scenes=14, size=64, seed=5, extra=("--lc-dtype", "uint16"))
    assert gdal.Open(str(next(uint16_lc.rglob("*_lc_*.tif")))).GetRasterBand(1).DataType == gdal.GDT_UInt16
    others = re_encoded(ms_tree, tmp_path / "others", {"s1": gdal.GDT_Float64, "s2": gdal.GDT_Int16, "lc": gdal.GDT_UInt16})
    expected = without(ms_db, IGNORED)
    for tree, db in [(uint16_lc, tmp_path / "uint16.db"), (others, tmp_path / "others.db")]:
        result = ingest(tree, db)
        assert result.returncode == 0, (result.stderr, errors(db))
        assert without(db, IGNORED) == expected
    types = dict(connect(tmp_path / "others.db").execute("SELECT DISTINCT modality, dtype FROM files").fetchall())
    assert types == {"s1": "Float64", "s2": "Int16", "lc": "UInt16"}


def test_a_scene_of_many_patches_is_one_folder_in_one_utm_zone(tmp_path_factory, tmp_path):
    """`synth --patches-per-scene`: triplets as the real dataset holds them, hundreds to a scene
    (here 25, in rows of 20 patches side by side)."""
    tree = synth_tree(tmp_path_factory, "sen12ms", scenes=25, size=32, seed=2, extra=("--patches-per-scene", 25))
    folders = sorted(p.relative_to(tree).as_posix() for p in tree.glob("*/*") if p.is_dir())
    assert folders == ["ROIs1158_spring/lc_1", "ROIs1158_spring/s1_1", "ROIs1158_spring/s2_1"]
    opened = [gdal.Open(str(f)) for f in (tree / "ROIs1158_spring/s2_1").glob("*.tif")]
    assert len(opened) == 25
    assert len({ds.GetSpatialRef().GetAuthorityCode(None) for ds in opened}) == 1
    corners = {ds.GetGeoTransform()[::3] for ds in opened}
    lefts, tops = sorted({x for x, _ in corners}), sorted({y for _, y in corners})
    assert len(corners) == 25 and len(lefts) == 20 and len(tops) == 2
    assert {b - a for a, b in zip(lefts, lefts[1:])} == {320.0} and tops[1] - tops[0] == 320.0
    db = tmp_path / "c.db"
    assert ingest(tree, db).returncode == 0, errors(db)
    one_zone = "SELECT count(*), count(DISTINCT utm_epsg), count(DISTINCT roi_id) FROM scenes"
    assert tuple(connect(db).execute(one_zone).fetchone()) == (25, 1, 1)


def test_synth_refuses_patches_per_scene_it_cannot_write(tmp_path):
    zero = run("synth", tmp_path / "ms", "--layout", "sen12ms", "--patches-per-scene", 0, check=False)
    assert (zero.returncode, zero.stderr) == (2, "sen12lite: synth: --patches-per-scene must be at least 1, got 0\n")
    tp = run("synth", tmp_path / "tp", "--layout", "sen12tp", "--patches-per-scene", 5, check=False)
    assert tp.returncode == 2 and "--patches-per-scene is for SEN12MS" in tp.stderr
    assert not (tmp_path / "ms").exists() and not (tmp_path / "tp").exists()


def test_a_float_land_cover_map_is_refused_and_the_rest_ingested(ms_tree, tmp_path):
    tree = re_encoded(ms_tree, tmp_path / "data", {})
    victim = next(tree.rglob("*_lc_*.tif"))
    gdal.Translate(str(victim.with_suffix(".f.tif")), str(victim), outputType=gdal.GDT_Float32)
    victim.with_suffix(".f.tif").replace(victim)
    db = tmp_path / "c.db"
    assert ingest(tree, db).returncode == 1
    assert errors(db) == [(str(victim.relative_to(tree)), "read", "wrong data type: Float32, expected one of Byte, UInt16")]
    assert connect(db).execute("SELECT count(*) FROM files").fetchone()[0] == 14 * 3 - 1


def test_class_codes_outside_the_legend_are_counted_and_named(ms_tree, tmp_path):
    tree = re_encoded(ms_tree, tmp_path / "data", {"lc": gdal.GDT_UInt16})
    victim = next(tree.rglob("*_lc_*.tif"))
    ds = gdal.Open(str(victim), gdal.GA_Update)
    igbp = ds.GetRasterBand(1).ReadAsArray()
    igbp[:3, :] = 300  # no IGBP class; fits only in 16 bits
    ds.GetRasterBand(1).WriteArray(igbp)
    ds = None
    db = tmp_path / "c.db"
    assert ingest(tree, db).returncode == 1
    outside = int((igbp == 300).sum())
    assert errors(db) == [(str(victim.relative_to(tree)), "classes", f"class codes outside the igbp legend: 300 ({outside} px)")]
    conn = connect(db)
    scene = conn.execute("SELECT scene_id FROM files WHERE path = ?", (str(victim.relative_to(tree)),)).fetchone()[0]
    rows = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT class, label, fraction FROM landcover WHERE scene_id = ?", (scene,))}
    classes, counts = np.unique(igbp, return_counts=True)
    assert rows.keys() == {int(c) for c in classes}
    assert rows[300] == (None, pytest.approx(outside / igbp.size))
    assert all(label is not None for c, (label, _) in rows.items() if c != 300)


def test_a_triplet_in_both_split_lists_has_no_split(ms_tree, tmp_path):
    tree = re_encoded(ms_tree, tmp_path / "data", {})
    train, test = ((tree / f"{split}_list.txt").read_text().split() for split in ("train", "test"))
    twice = train[0]
    with open(tree / "test_list.txt", "a") as listing:
        listing.write(twice + "\n")
    db = tmp_path / "c.db"
    assert ingest(tree, db).returncode == 1
    [(path, stage, message)] = errors(db)
    assert stage == "discover" and path in ("train_list.txt", "test_list.txt")
    assert message.startswith(f"{twice} is also in the ") and message.endswith("list: its split is left NULL")
    triplet = twice.replace("_s2_", "_").removesuffix(".tif")
    conn = connect(db)
    assert conn.execute("SELECT split FROM scenes WHERE name = ?", (triplet,)).fetchone()[0] is None
    splits = dict(conn.execute("SELECT split, count(*) FROM scenes GROUP BY split").fetchall())
    assert splits == {None: 1, "train": len(train) - 1, "test": len(test)}


def test_a_folder_with_nothing_to_ingest_says_what_it_found_and_claims_nothing(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    db = tmp_path / "c.db"
    result = ingest(empty, db)
    assert result.returncode == 1 and "nothing to ingest: looked for sen12tp-metadata.json" in result.stderr
    assert result.stderr.rstrip().endswith("found nothing") and not db.exists()
    downloads = tmp_path / "downloads"
    (downloads / "ROIs1158_spring").mkdir(parents=True)
    for name in ["ROIs1158_spring_s1.tar.gz", "ROIs1158_spring_s2.tar.gz", "sen12tp-test.zip", "scene.tif"]:
        (downloads / name).write_bytes(b"")
    result = ingest(downloads, db)
    assert result.returncode == 1 and not db.exists()
    assert ("found 3 archives without a dataset file (ROIs1158_spring_s1.tar.gz, ROIs1158_spring_s2.tar.gz, "
            "sen12tp-test.zip); 1 GeoTIFF of other names (scene.tif); folders ROIs1158_spring") in result.stderr


def test_a_catalog_of_a_folder_whose_files_are_gone_forgets_them(ms_tree, tmp_path):
    tree = re_encoded(ms_tree, tmp_path / "data", {})
    db = tmp_path / "c.db"
    assert ingest(tree, db).returncode == 0
    for path in list(tree.rglob("*.tif")):
        path.unlink()
    assert ingest(tree, db).returncode == 0
    assert connect(db).execute("SELECT (SELECT count(*) FROM files) + (SELECT count(*) FROM scenes)").fetchone()[0] == 0


def test_measures_sen12ms_cannot_give_are_null(ms_db):
    conn = load(ms_db)
    scenes = [r[0] for r in conn.execute("SELECT scene_id FROM scenes")]
    rows = [r for s in scenes for r in conn.execute("SELECT cloud_fraction, nodata_fraction FROM s12_patches(?, 32, 32)", (s,))]
    assert len(rows) == 14 * 4
    assert all(cloud is None and nodata is not None for cloud, nodata in rows)
    assert conn.execute("SELECT count(*) FROM scenes WHERE cloud_fraction IS NOT NULL").fetchone()[0] == 0


def latitude_rule(name, center_lat):
    """The folder's northern season, flipped south of the equator ('fall' is 'autumn')."""
    folder = {"spring": "spring", "summer": "summer", "fall": "autumn", "winter": "winter"}[name.split("_")[1]]
    flip = {"spring": "autumn", "summer": "winter", "autumn": "spring", "winter": "summer"}
    return flip[folder] if center_lat < 0 else folder


def test_seasons_csv_gives_the_real_season_and_its_disagreements_are_recorded(ms_tree, tmp_path):
    tree = re_encoded(ms_tree, tmp_path / "data", {})
    db = tmp_path / "c.db"
    assert ingest(tree, db).returncode == 0
    scenes = connect(db).execute("SELECT name, center_lat, season FROM scenes ORDER BY name").fetchall()
    assert all(s["season"] == latitude_rule(s["name"], s["center_lat"]) for s in scenes)
    keys = sorted({s["name"].rsplit("_p", 1)[0]: s for s in scenes}.items())
    (agree, a), (differ, d) = keys[0], keys[1]
    other = next(x for x in ("spring", "summer", "autumn", "winter") if x != latitude_rule(d["name"], d["center_lat"]))
    written = "Fall" if other == "autumn" else other
    code, season, scene = differ.split("_")  # written with its modality, as some copies have it
    (tree / "seasons.csv").write_text(f"scene,true_season\n{agree},{latitude_rule(a['name'], a['center_lat'])}\n"
                                      f"{code}_{season}_s2_{scene},{written}\nnot a scene,x\n")
    assert ingest(tree, db).returncode == 1
    conn = connect(db)
    seasons = dict(conn.execute("SELECT name, season FROM scenes").fetchall())
    for s in scenes:
        expected = other if s["name"].startswith(differ + "_p") else latitude_rule(s["name"], s["center_lat"])
        assert seasons[s["name"]] == expected, s["name"]
    assert errors(db) == [("seasons.csv", "metadata", f"{differ}: the file says {other}, the latitude rule "
                                                      f"{latitude_rule(d['name'], d['center_lat'])}; the catalog keeps {other}"),
                          ("seasons.csv", "metadata", 'line 4: not a scene and a season: "not a scene,x"')]
    (tree / "seasons.csv").unlink()
    assert ingest(tree, db).returncode == 0 and errors(db) == []
    assert all(r[1] == latitude_rule(r[0], r[2]) for r in connect(db).execute("SELECT name, season, center_lat FROM scenes"))


def band_rows(db, modalities):
    conn = connect(db)
    return sorted(tuple(r) for r in conn.execute(
        f"SELECT s.name, b.modality, b.band, b.valid_count, b.min, b.max, b.mean, b.stddev, b.p02, b.p50, b.p98 "
        f"FROM band_stats b JOIN scenes s USING (scene_id) WHERE b.modality IN ({','.join('?' * len(modalities))})",
        modalities))


def test_sen12ms_cr_is_recognised_and_its_cloudy_patches_catalogued(ms_tree, ms_db, tmp_path_factory, tmp_path):
    tree = synth_tree(tmp_path_factory, "sen12ms-cr", scenes=14, size=64, seed=5)
    assert (tree / "ROIs1158_spring_s2_cloudy" / "s2_cloudy_1" / "ROIs1158_spring_s2_cloudy_1_p1.tif").exists()
    db = tmp_path / "cr.db"
    assert ingest(tree, db).returncode == 0, errors(db)
    conn = connect(db)
    assert [tuple(r) for r in conn.execute("SELECT DISTINCT dataset FROM scenes")] == [("sen12ms-cr",)]
    assert dict(conn.execute("SELECT modality, count(*) FROM files GROUP BY 1").fetchall()) == {"s1": 14, "s2": 14, "s2_cloudy": 14}
    # SEN12MS-CR's S1 and S2 are SEN12MS's: the same seed writes the same patches in both layouts.
    assert band_rows(db, ["s1", "s2"]) == band_rows(ms_db, ["s1", "s2"])
    for scene_id, path, ndvi, cloud in conn.execute(
            "SELECT s.scene_id, f.path, s.ndvi_mean, s.cloud_fraction FROM scenes s JOIN files f USING (scene_id) "
            "WHERE f.modality = 's2_cloudy'").fetchall():
        cloudy = gdal.Open(str(tree / path)).ReadAsArray().astype(np.float64)
        stats = conn.execute("SELECT band_name, min, max, mean, stddev FROM band_stats WHERE scene_id = ? AND modality = 's2_cloudy' "
                             "ORDER BY band", (scene_id,)).fetchall()
        assert [s[0] for s in stats][:3] == ["B1", "B2", "B3"] and len(stats) == 13
        for band, (_, lo, hi, mean, std) in zip(cloudy, stats):
            assert (lo, hi) == (band.min(), band.max())
            assert mean == pytest.approx(band.mean(), rel=1e-12) and std == pytest.approx(band.std(), rel=1e-9)
        assert cloud is None  # neither S2 of SEN12MS-CR has a cloud band
        clear_path = conn.execute("SELECT path FROM files WHERE scene_id = ? AND modality = 's2'", (scene_id,)).fetchone()[0]
        clear = gdal.Open(str(tree / clear_path)).ReadAsArray().astype(np.float64)
        assert ndvi == pytest.approx(((clear[7] - clear[3]) / (clear[7] + clear[3])).mean(), rel=1e-9)  # from the clear S2
    # Pairing cloudy and clear patches by their statistics is one query.
    brighter = conn.execute("""SELECT count(*) FROM band_stats c JOIN band_stats s USING (scene_id, band)
                               WHERE c.modality = 's2_cloudy' AND s.modality = 's2' AND c.band_name = 'B2'
                               AND c.mean > 1.5 * s.mean""").fetchone()[0]
    assert brighter == 14
    patches = load(db).execute("SELECT count(*), count(cloud_fraction), count(landcover) FROM s12_patches(?, 32, 32)",
                               (scene_id,)).fetchone()
    assert patches == (4, 0, 0)  # no cloud band, no land-cover map
