"""s12_zonal (src/sql/functions/s12_zonal.rs) against GDAL's own rasterizer: the zone burnt into a raster of the
scene's grid (pixel-centre rule, the zone reprojected by GDAL from EPSG:4326), then numpy
statistics of the burnt pixels — for polygons with holes, multipolygons and a polygon crossing the
scene's edge."""
import json
import sqlite3

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from oracles import CLOUDY_SCENE, SCENE, gdal_array, path_of

gdal.UseExceptions()


def lonlat_of(ds, col, row):
    """The lon/lat of a pixel position (col, row in pixels, fractions allowed)."""
    lonlat = osr.SpatialReference()
    lonlat.ImportFromEPSG(4326)
    lonlat.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    g = ds.GetGeoTransform()
    x, y = g[0] + col * g[1], g[3] + row * g[5]
    lon, lat, _ = osr.CoordinateTransformation(ds.GetSpatialRef(), lonlat).TransformPoint(x, y)
    return lon, lat


def ring(ds, corners):
    return [lonlat_of(ds, c, r) for c, r in corners + corners[:1]]


def wkt_polygon(*rings):
    return "POLYGON(" + ", ".join("(" + ", ".join(f"{x} {y}" for x, y in r) + ")" for r in rings) + ")"


def burnt(ds, wkt):
    """GDAL's rasterization of the zone on the scene's grid: 1 where a pixel centre is inside."""
    mask = gdal.GetDriverByName("MEM").Create("", ds.RasterXSize, ds.RasterYSize, 1, gdal.GDT_Byte)
    mask.SetGeoTransform(ds.GetGeoTransform())
    mask.SetProjection(ds.GetProjection())
    lonlat = osr.SpatialReference()
    lonlat.ImportFromEPSG(4326)
    lonlat.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    source = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = source.CreateLayer("zone", lonlat, ogr.wkbUnknown)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
    layer.CreateFeature(feature)
    gdal.RasterizeLayer(mask, [1], layer, burn_values=[1])
    return mask.ReadAsArray() == 1


def numpy_stats(values):
    if values.size == 0:
        return {"count": 0, "min": None, "max": None, "mean": None, "stddev": None}
    return {"count": int(values.size), "min": float(values.min()), "max": float(values.max()),
            "mean": float(values.mean()), "stddev": float(values.std())}


def zones(ds):
    w, h = ds.RasterXSize, ds.RasterYSize
    square = ring(ds, [(20.3, 30.7), (150.2, 25.1), (160.9, 140.4), (30.6, 150.8)])
    hole = ring(ds, [(60.2, 60.3), (100.7, 65.4), (95.1, 100.9)])
    second = ring(ds, [(180.4, 170.2), (230.6, 175.8), (200.3, 220.1)])
    crossing = ring(ds, [(w - 40.5, h - 60.2), (w + 80.3, h - 50.6), (w + 70.1, h + 90.4), (w - 30.7, h + 20.9)])
    return {
        "square": wkt_polygon(square),
        "with a hole": wkt_polygon(square, hole),
        "multipolygon": "MULTIPOLYGON(((" + ", ".join(f"{x} {y}" for x, y in square) + ")), (("
                        + ", ".join(f"{x} {y}" for x, y in second) + ")))",
        "crossing the edge": wkt_polygon(crossing),
    }


@pytest.mark.parametrize("zone", ["square", "with a hole", "multipolygon", "crossing the edge"])
def test_band_statistics_of_a_zone_match_gdal_rasterize_and_numpy(ext, zone):
    ds, s2 = gdal_array(ext, SCENE, "s2")
    wkt = zones(ds)[zone]
    inside = burnt(ds, wkt)
    assert inside.sum() > 100
    b8 = s2[7]
    expected = numpy_stats(b8[inside & (b8 != ds.GetRasterBand(8).GetNoDataValue())].astype(np.float64))
    got = json.loads(ext.execute("SELECT s12_zonal(?, 's2', 'B8', ?)", (SCENE, wkt)).fetchone()[0])
    assert got["count"] == expected["count"] and (got["min"], got["max"]) == (expected["min"], expected["max"])
    assert got["mean"] == pytest.approx(expected["mean"], rel=1e-12) and got["stddev"] == pytest.approx(expected["stddev"], rel=1e-9)


def test_an_index_in_a_zone_follows_the_cloud_rule(ext):
    ds, s2 = gdal_array(ext, CLOUDY_SCENE, "s2")
    wkt = zones(ds)["with a hole"]
    inside = burnt(ds, wkt)
    b8, b4, cloud = s2[7].astype(np.float64), s2[3].astype(np.float64), s2[12]
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (b8 - b4) / (b8 + b4)
    keep = inside & (b8 != 0) & (b4 != 0) & ~((cloud != 0) & (cloud > 40)) & np.isfinite(ndvi)
    assert (inside & (cloud > 40)).any(), "the zone must hold cloudy pixels for the rule to matter"
    expected = numpy_stats(ndvi[keep])
    got = json.loads(ext.execute("SELECT s12_zonal(?, 's2', 'ndvi', ?)", (CLOUDY_SCENE, wkt)).fetchone()[0])
    assert got["count"] == expected["count"]
    assert got["mean"] == pytest.approx(expected["mean"], rel=1e-9) and got["stddev"] == pytest.approx(expected["stddev"], rel=1e-9)


def test_a_zone_that_misses_the_scene_counts_nothing_and_a_swapped_one_is_refused(ext):
    ds = gdal.Open(path_of(ext, SCENE, "s2"))
    far = "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"
    assert json.loads(ext.execute("SELECT s12_zonal(?, 's2', 'B8', ?)", (SCENE, far)).fetchone()[0]) == \
        {"count": 0, "min": None, "max": None, "mean": None, "stddev": None}
    square = ring(ds, [(20.3, 30.7), (150.2, 25.1), (160.9, 140.4), (30.6, 150.8)])
    swapped = wkt_polygon([(lat, lon) for lon, lat in square])
    with pytest.raises(sqlite3.OperationalError, match=r"s12_zonal: the polygon misses the scene but would cover it as \(lat, lon\)"):
        ext.execute("SELECT s12_zonal(?, 's2', 'B8', ?)", (SCENE, swapped)).fetchone()
    with pytest.raises(sqlite3.OperationalError, match="s12_zonal: the zone must be a Polygon or MultiPolygon, got a Point"):
        ext.execute("SELECT s12_zonal(?, 's2', 'B8', 'POINT(1 2)')", (SCENE,)).fetchone()
