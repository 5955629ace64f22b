"""`sen12lite export --format stac-geoparquet`: STAC items read back by the STAC tools themselves
(stac-geoparquet's reader, pystac) in build/stac (`make stac`), each item and collection checked
against the STAC 1.1.0 JSON schemas shipped in pystac's package (no network). The oracle is the
catalog read with Python's sqlite3 (the footprint from its GeoJSON column, not the WKB the export
writes), GDAL's band descriptions of each file, and ESA's table of Sentinel-2 bands."""
import json
import subprocess
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from osgeo import gdal

from conftest import ROOT, connect, data_root, run

STAC_PYTHON = ROOT / "build" / "stac" / "bin" / "python"
READER = Path(__file__).with_name("stac_reader.py")
# Sentinel-2 MSI bands: common name and centre wavelength in µm (ESA's Sentinel-2 User Handbook,
# S2A), as STAC's eo extension names them.
MSI = {"B1": ("coastal", 0.443), "B2": ("blue", 0.490), "B3": ("green", 0.560), "B4": ("red", 0.665),
       "B5": ("rededge", 0.705), "B6": ("rededge", 0.740), "B7": ("rededge", 0.783), "B8": ("nir", 0.842),
       "B8A": ("nir08", 0.865), "B9": ("nir09", 0.945), "B10": ("cirrus", 1.375), "B11": ("swir16", 1.610),
       "B12": ("swir22", 2.190)}
# SEN12MS's season folders and their acquisition windows (the dataset's paper, Table 1).
SEASON_WINDOWS = {"ROIs1158_spring": ("2017-03-01", "2017-05-30"), "ROIs1868_summer": ("2017-06-01", "2017-08-31"),
                  "ROIs1970_fall": ("2017-09-01", "2017-11-30"), "ROIs2017_winter": ("2016-12-01", "2017-02-28")}
CARRIED = {"name", "s1_time", "s2_time", "cloud_fraction"}


def read_back(path):
    """The report of stac_reader.py: items as stac-geoparquet gives them, as pystac writes them
    again, and every schema error."""
    if not STAC_PYTHON.exists():
        pytest.skip("no build/stac: run `make stac`")
    out = subprocess.run([str(STAC_PYTHON), str(READER), str(path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def instant(text):
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def without_nulls(value):
    """Parquet has no absent field beside a null one: a reader gets None where the item has no key."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def comparable(item):
    """An item with its times as instants (writers differ in how many zeros they print)."""
    item = without_nulls(item)
    for key in ("datetime", "start_datetime", "end_datetime"):
        if key in item["properties"]:
            item["properties"][key] = instant(item["properties"][key])
    return item


def expected_asset(root, dataset, row):
    asset = {"href": f"{root}/{row['path']}", "type": "image/tiff; application=geotiff", "roles": ["data"],
             "proj:code": f"EPSG:{row['epsg']}", "proj:shape": [row["height"], row["width"]]}
    c, a, b, f, d, e = json.loads(row["geotransform"])
    asset["proj:transform"] = [a, b, c, d, e, f]
    dataset_file = gdal.Open(f"{root}/{row['path']}")
    names = [dataset_file.GetRasterBand(i + 1).GetDescription() for i in range(dataset_file.RasterCount)]
    if row["modality"] in ("s2", "s2_cloudy"):
        asset["eo:bands"] = [{"name": n, **({"common_name": MSI[n][0], "center_wavelength": MSI[n][1]}
                                            if n in MSI else {})} for n in names]
    if row["modality"] == "s1":
        asset["sar:polarizations"] = ["VV", "VH"]
    return asset


def expected_items(db):
    """The items the catalog holds, built from its tables."""
    root = data_root(db)
    with closing(connect(db)) as conn:
        scenes = [dict(r) for r in conn.execute(
            "SELECT * FROM scenes LEFT JOIN landcover_mix USING (scene_id) WHERE has_files ORDER BY scene_id")]
        files = {}
        for row in conn.execute("SELECT * FROM files"):
            files.setdefault(row["scene_id"], []).append(dict(row))
    items = []
    for scene in scenes:
        times = [t for t in (scene["s1_time"], scene["s2_time"]) if t]
        if times:
            start, end = min(times, key=instant), max(times, key=instant)
        else:
            first, last = SEASON_WINDOWS["_".join(scene["name"].split("_")[:2])]
            start = f"{first}T00:00:00Z"
            end = (instant(f"{last}T00:00:00Z") + timedelta(days=1, milliseconds=-1)).isoformat()
        properties = {"datetime": scene["s2_time"] or scene["s1_time"], "start_datetime": start, "end_datetime": end,
                      "sar:instrument_mode": "IW", "sar:frequency_band": "C", "sar:product_type": "GRD",
                      "sar:polarizations": ["VV", "VH"]}
        if scene["cloud_fraction"] is not None:
            properties["eo:cloud_cover"] = scene["cloud_fraction"] * 100
        attributes = [c for c in scene if c not in CARRIED and c not in (
            "footprint", "geom", "min_lon", "min_lat", "max_lon", "max_lat")]
        properties.update({f"s12:{c}": scene[c] for c in attributes})
        properties["s12:has_files"] = bool(scene["has_files"])
        items.append({
            "type": "Feature", "stac_version": "1.1.0",
            "stac_extensions": ["https://stac-extensions.github.io/eo/v1.1.0/schema.json",
                                "https://stac-extensions.github.io/sar/v1.0.0/schema.json",
                                "https://stac-extensions.github.io/projection/v2.0.0/schema.json"],
            "id": scene["name"], "geometry": json.loads(scene["footprint"]),
            "bbox": [scene["min_lon"], scene["min_lat"], scene["max_lon"], scene["max_lat"]], "links": [],
            "assets": {f["modality"]: expected_asset(root, scene["dataset"], f) for f in files[scene["scene_id"]]},
            "properties": properties,
        })
    return items


@pytest.fixture(scope="module", params=["tp", "ms"])
def exported(request, tmp_path_factory):
    db = request.getfixturevalue(f"{request.param}_db")
    out = tmp_path_factory.mktemp("stac") / "items.parquet"
    run("export", db, out, "--format", "stac-geoparquet", "--where", "has_files")
    return db, read_back(out)


def test_every_item_and_collection_validates_against_the_packaged_stac_schemas(exported):
    _, report = exported
    assert report["items"] and report["item_errors"] == [] and report["collection_errors"] == []


def test_the_items_are_the_catalogs_scenes_with_their_files(exported):
    db, report = exported
    expected = expected_items(db)
    got = {item["id"]: comparable(item) for item in report["items"]}
    assert sorted(got) == sorted(item["id"] for item in expected)
    for item in expected:
        item = comparable(item)
        read = got[item["id"]]
        assert same_polygon(read.pop("geometry"), item.pop("geometry")), item["id"]
        assert read.pop("bbox") == pytest.approx(item.pop("bbox"), abs=1e-12)
        # Titles are prose for people: present, and not checked word for word.
        assert all(asset.pop("title") for asset in read["assets"].values())
        assert read == item, item["id"]


def same_polygon(a, b):
    """The same rings, vertex by vertex, to 1e-12 degrees (WKB and GeoJSON text round differently)."""
    return a["type"] == b["type"] == "Polygon" and len(a["coordinates"]) == len(b["coordinates"]) and all(
        len(ra) == len(rb) and all(x == pytest.approx(y, abs=1e-12) for x, y in zip(ra, rb))
        for ra, rb in zip(a["coordinates"], b["coordinates"]))


def test_pystac_reads_each_item_and_writes_it_back_unchanged(exported):
    _, report = exported
    for item, again in zip(report["items"], report["pystac"]):
        assert comparable(again) == comparable(item), item["id"]


def test_each_dataset_is_a_collection_whose_extent_holds_its_items(exported):
    _, report = exported
    items = report["items"]
    datasets = {item["properties"]["s12:dataset"] for item in items}
    assert set(report["collections"]) == datasets
    for name, collection in report["collections"].items():
        mine = [i for i in items if i["properties"]["s12:dataset"] == name]
        (xmin, ymin, xmax, ymax), = collection["extent"]["spatial"]["bbox"]
        assert xmin == min(i["bbox"][0] for i in mine) and ymax == max(i["bbox"][3] for i in mine)
        (first, last), = collection["extent"]["temporal"]["interval"]
        assert instant(first) == min(instant(i["properties"]["start_datetime"]) for i in mine)
        assert instant(last) == max(instant(i["properties"]["end_datetime"]) for i in mine)
        assert collection["license"] == "CC-BY-4.0" and collection["id"] == name
