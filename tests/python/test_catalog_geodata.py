"""The catalog is geodata: GDAL's own tools read `scenes` as a polygon layer in EPSG:4326 without
being told (scenes.geom, WKB registered in geometry_columns), its geometries are the GeoJSON
footprints, and OGR's spatial filter and s12_intersecting pick the same scenes."""
import sqlite3
import subprocess

from osgeo import gdal, ogr

from conftest import load

gdal.UseExceptions()


def ogrinfo(*args):
    result = subprocess.run(["ogrinfo", "-ro", *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ogrinfo_lists_scenes_as_a_polygon_layer_in_epsg_4326(tp_db):
    summary = ogrinfo("-so", tp_db, "scenes")
    assert "Geometry: Polygon" in summary and "Feature Count: 2319" in summary
    assert 'ID["EPSG",4326]' in summary and "FID Column = scene_id" in summary and "Geometry Column = geom" in summary
    assert "split: String" in summary and "cloud_fraction: Real" in summary


def test_every_geometry_is_its_geojson_footprint(tp_db):
    source = ogr.Open(str(tp_db))
    layer = source.GetLayerByName("scenes")
    footprints = dict(sqlite3.connect(tp_db).execute("SELECT scene_id, footprint FROM scenes"))
    seen = 0
    for feature in layer:
        expected = ogr.CreateGeometryFromJson(footprints[feature.GetFID()])
        assert feature.GetGeometryRef().Equals(expected), feature.GetFID()
        seen += 1
    assert seen == len(footprints) == 2319


def test_ogrs_spatial_filter_and_s12_intersecting_pick_the_same_scenes(tp_db):
    conn = load(tp_db)
    source = ogr.Open(str(tp_db))
    layer = source.GetLayerByName("scenes")
    for box in [(5, 40, 15, 50), (-50, -5, -40, 5), (100, 20, 102, 22), (-180, -90, 180, 90)]:
        layer.SetSpatialFilterRect(*box)
        by_ogr = sorted(f.GetFID() for f in layer)
        x0, y0, x1, y1 = box
        polygon = f"POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"
        ours = [r[0] for r in conn.execute("SELECT scene_id FROM s12_intersecting(?)", (polygon,))]
        assert ours == by_ogr, box
    assert len(by_ogr) == 2319


def test_ogr2ogr_copies_the_footprints_to_a_geopackage(tp_db, tmp_path):
    """A layer copy keeps the polygon type and the CRS with no flag; through -sql OGR keeps the CRS
    (the geometry type of a query's column is not carried by OGR: -nlt POLYGON says it)."""
    layer_copy, from_sql = tmp_path / "layer.gpkg", tmp_path / "sql.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", layer_copy, tp_db, "scenes", "-where", "has_files", "-nln", "footprints"],
                   check=True, capture_output=True)
    summary = ogrinfo("-so", layer_copy, "footprints")
    assert "Geometry: Polygon" in summary and "Feature Count: 8" in summary and 'ID["EPSG",4326]' in summary
    subprocess.run(["ogr2ogr", "-f", "GPKG", from_sql, tp_db, "-sql", "SELECT name, split, geom FROM scenes WHERE has_files",
                    "-nln", "footprints"], check=True, capture_output=True)
    summary = ogrinfo("-so", from_sql, "footprints")
    assert "Feature Count: 8" in summary and 'ID["EPSG",4326]' in summary
