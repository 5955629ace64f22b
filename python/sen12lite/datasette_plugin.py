"""Datasette plugin: the extension on every connection, s12_png results shown as images, .npy
blobs described and downloadable as .npy, and, by the page script (datasette.js): a thumbnail beside
every scene id, a scene's quicklooks and patch grid on its row page, a map of the whole result's
footprints on pages that list scenes (Leaflet over Natural Earth, shipped in static/); the README's
example queries as canned queries of every sen12lite catalog."""

import base64
import hashlib
import json
from pathlib import Path

from datasette import hookimpl
from datasette.blob_renderer import render_blob
from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

import sen12lite

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NPY_MAGIC = b"\x93NUMPY"
EXAMPLES = Path(__file__).resolve().parent / "examples"
PAGE_SCRIPT = (Path(__file__).resolve().parent / "datasette.js").read_text()


@hookimpl
def prepare_connection(conn):
    sen12lite.load_for_plugin(conn, "Datasette")


@hookimpl
def render_cell(value, column):
    if not isinstance(value, bytes):
        return None
    if value.startswith(PNG_SIGNATURE):
        encoded = base64.b64encode(value).decode()
        return Markup(f'<img class="s12-png" alt="{escape(column)}" src="data:image/png;base64,{encoded}">')
    if value.startswith(NPY_MAGIC):
        # The page's script makes the link: Datasette gives render_cell no request to build it from.
        digest = hashlib.sha256(value).hexdigest()
        return Markup(f'<span class="s12-npy">{escape(npy_summary(value))}</span> <a class="s12-npy-download" '
                      f'data-column="{escape(column)}" data-hash="{digest}">.npy</a>')
    return None


def npy_summary(blob: bytes) -> str:
    """`float32 (13, 256, 256)`: what the array is."""
    try:
        array = sen12lite.array(blob)
    except (ImportError, ValueError):
        return f"<.npy: {len(blob):,} bytes>"
    return f"{array.dtype} {tuple(array.shape)}"


async def render_npy(datasette, database, rows, columns, request, table, view_name):
    response = await render_blob(datasette, database, rows, columns, request, table, view_name)
    disposition = response.headers["Content-Disposition"]
    response.headers["Content-Disposition"] = disposition.replace('.blob"', '.npy"')
    response.content_type = "application/octet-stream"
    return response


@hookimpl
def register_output_renderer():
    return {"extension": "npy", "render": render_npy, "can_render": lambda: False}


QUICKLOOK_ROUTE = r"^/-/s12/(?P<database>[^/]+)/(?P<scene>[0-9]+)/(?P<what>rgb|vv|worldcover|igbp)\.png$"
PATCHES_ROUTE = r"^/-/s12/(?P<database>[^/]+)/(?P<scene>[0-9]+)/patches\.json$"
LEGEND_ROUTE = r"^/-/s12/(?P<database>[^/]+)/(?P<scene>[0-9]+)/legend\.json$"


@hookimpl
def register_routes():
    return [(QUICKLOOK_ROUTE, quicklook), (PATCHES_ROUTE, patches), (LEGEND_ROUTE, legend),
            (STATIC_ROUTE, static_file)]


async def catalog_of(datasette, request):
    """The catalog a route names, when the visitor may see it; None otherwise."""
    name = request.url_vars["database"]
    if name not in datasette.databases:
        return None
    if not await datasette.permission_allowed(request.actor, "view-database", resource=name, default=True):
        return None
    return datasette.get_database(name)


def refusal(error):
    """(message, status) of a query that failed: a limit (Datasette's time limit, which interrupts
    the query, or one of the extension's) is a 400 naming it; anything else, such as a scene
    without its file, a 404 with the extension's message."""
    if isinstance(error, QueryInterrupted):
        return "the query ran over this instance's time limit (sql_time_limit_ms)", 400
    message = str(error)
    return message, 400 if "over the limit" in message else 404


async def quicklook(datasette, request):
    """A scene's whole quicklook, `s12_png(scene, what)`: kept by the ingest, or drawn from its file."""
    db = await catalog_of(datasette, request)
    if db is None:
        return Response.text("no such catalog", status=404)
    scene, what = int(request.url_vars["scene"]), request.url_vars["what"]
    try:
        png = (await db.execute("SELECT s12_png(?, ?)", [scene, what])).first()[0]
    except Exception as error:  # the extension's message says why (no such file, a limit)
        return Response.text(*refusal(error))
    return Response(png, content_type="image/png", headers={"Cache-Control": "max-age=3600"})


async def patches(datasette, request):
    """A scene's size and its patches of the authors' grid, `s12_patches(scene)`, as JSON."""
    db = await catalog_of(datasette, request)
    if db is None:
        return Response.json({"error": "no such catalog"}, status=404)
    scene = int(request.url_vars["scene"])
    try:
        size = (await db.execute("SELECT width, height FROM scenes WHERE scene_id = ?", [scene])).first()
        rows = await db.execute("SELECT col, row, width, height, cloud_fraction, nodata_fraction FROM "
                                "s12_patches(?)", [scene])
    except Exception as error:
        message, status = refusal(error)
        return Response.json({"error": message}, status=status)
    keys = ["col", "row", "width", "height", "cloud_fraction", "nodata_fraction"]
    return Response.json({"width": size[0], "height": size[1], "patches": [dict(zip(keys, r)) for r in rows]})


# Leaflet, TopoJSON's client and Natural Earth's countries, shipped in the wheel (static/LICENSES.md)
# and served by the plugin's own route: Datasette's static-plugins directory is found for plugin
# packages, and this plugin is a module.
STATIC = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".js": "application/javascript", ".css": "text/css", ".json": "application/json"}
STATIC_ROUTE = r"^/-/s12/static/(?P<name>leaflet\.js|leaflet\.css|topojson-client\.min\.js|countries-50m\.json)$"


def static_url(datasette, name):
    return datasette.urls.path(f"/-/s12/static/{name}")


async def static_file(request):
    path = STATIC / request.url_vars["name"]
    return Response(path.read_bytes(), content_type=STATIC_TYPES[path.suffix],
                    headers={"Cache-Control": "max-age=86400"})


@hookimpl
def extra_js_urls(datasette):
    return [static_url(datasette, name) for name in ("leaflet.js", "topojson-client.min.js")]


@hookimpl
def extra_css_urls(datasette):
    return [static_url(datasette, "leaflet.css")]


async def legend(datasette, request):
    """The classes of a scene's land-cover map, largest first, with their colours (s12_legends)."""
    db = await catalog_of(datasette, request)
    if db is None:
        return Response.json({"error": "no such catalog"}, status=404)
    rows = await db.execute("SELECT l.class, l.label, g.colour, l.fraction FROM landcover l JOIN s12_legends g "
                            "ON g.source = l.source AND g.class = l.class WHERE l.scene_id = ? ORDER BY l.fraction DESC",
                            [int(request.url_vars["scene"])])
    keys = ["class", "label", "colour", "fraction"]
    return Response.json({"classes": [dict(zip(keys, r)) for r in rows]})


@hookimpl
def extra_body_script(datasette):
    # Where the page script finds the world's land and borders.
    return f"window.S12_STATIC = {json.dumps(static_url(datasette, ''))};\n" + PAGE_SCRIPT


@hookimpl
def canned_queries(datasette, database):
    async def queries():
        if not await datasette.get_database(database).table_exists("s12_meta"):
            return {}
        return {path.stem: example_query(path) for path in sorted(EXAMPLES.glob("*.sql"))}

    return queries


def example_query(path: Path) -> dict:
    """A canned query from an example file: its first comment line is the title."""
    sql = path.read_text()
    title = sql.splitlines()[0].removeprefix("--").strip()
    return {"sql": sql, "title": title}
