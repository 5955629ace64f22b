"""Land and country borders for maps drawn offline: Natural Earth's 1:50m countries, the TopoJSON of
npm's world-atlas that the Datasette plugin's map draws in the browser, decoded here for matplotlib
(or anything that takes lon/lat arrays). No tile server, no request leaves the machine.

    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection, PolyCollection
    from sen12lite import basemap
    ax = plt.gca()
    ax.add_collection(PolyCollection(basemap.land(), facecolor="#e8e4d8", edgecolor="#9a968a", linewidth=0.3))
    ax.add_collection(LineCollection(basemap.borders(), color="#b8b4a8", linewidth=0.3))
"""

import json
from collections import Counter
from functools import lru_cache
from pathlib import Path

__all__ = ["land", "borders"]

TOPOLOGY = Path(__file__).with_name("static") / "countries-50m.json"


def land():
    """The land as a list of rings, each an (n, 2) float array of (lon, lat) ready for a map in
    degrees (plate carrée) clipped to -180..180: outer rings and holes alike, in TopoJSON's order,
    a ring that crosses the antimeridian drawn once on each side of it (see `_unwrapped`)."""
    topology = _topology()
    return [piece for geometry in topology["objects"]["land"]["geometries"] for ring in _rings(geometry)
            for piece in _unwrapped(_ring(topology, ring))]


def borders():
    """The borders between countries as a list of (n, 2) float arrays of (lon, lat): every arc two
    countries share, once (the coastlines are the land's outline), drawn as `land` draws rings."""
    topology = _topology()
    used = Counter(_arc_index(arc) for geometry in topology["objects"]["countries"]["geometries"]
                   for ring in _rings(geometry) for arc in set(map(_arc_index, ring)))
    return [piece for index, times in sorted(used.items()) if times >= 2 for piece in _unwrapped(_arc(topology, index))]


@lru_cache(maxsize=1)
def _topology():
    return json.loads(TOPOLOGY.read_text())


def _rings(geometry):
    """A Polygon's or MultiPolygon's rings, each a list of arc indices."""
    if geometry["type"] == "Polygon":
        return geometry["arcs"]
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["arcs"] for ring in polygon]
    return []


def _arc_index(arc):
    """TopoJSON writes an arc walked backwards as the one's complement of its index."""
    return arc if arc >= 0 else ~arc


def _arc(topology, index):
    """One arc's points: quantized deltas summed, then scaled and translated to degrees."""
    import numpy as np

    scale, translate = topology["transform"]["scale"], topology["transform"]["translate"]
    deltas = np.asarray(topology["arcs"][index], dtype=np.float64)
    return np.cumsum(deltas, axis=0) * scale + translate


def _ring(topology, arcs):
    """A ring's points from its arcs: each arc after the first starts where the one before it ended."""
    import numpy as np

    pieces = []
    for arc in arcs:
        points = _arc(topology, _arc_index(arc))
        points = points if arc >= 0 else points[::-1]
        pieces.append(points if not pieces else points[1:])
    return np.concatenate(pieces)


def _unwrapped(points):
    """A line that jumps between -180 and 180 (Chukotka, Fiji) would be drawn across the whole map:
    its longitudes are made continuous, and the part beyond 180 (or -180) comes again shifted by
    360 degrees, for the map's edge to clip. A ring round a pole (Antarctica) is left as it is."""
    import numpy as np

    lon = np.unwrap(points[:, 0], period=360)
    if abs(lon[-1] - lon[0]) > 180 or np.array_equal(lon, points[:, 0]):
        return [points]
    unwrapped = np.column_stack([lon, points[:, 1]])
    shift = -360 if lon.max() > 180 else 360
    return [unwrapped, unwrapped + (shift, 0)]
