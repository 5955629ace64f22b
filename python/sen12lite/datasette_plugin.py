"""Datasette plugin: the extension on every connection, s12_png results shown as images, .npy
blobs described and downloadable as .npy, a map of the footprints on pages that list scenes,
and the README's example queries as canned queries of every sen12lite catalog."""

import base64
import hashlib
from pathlib import Path

from datasette import hookimpl
from datasette.blob_renderer import render_blob
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


@hookimpl
def extra_body_script():
    return PAGE_SCRIPT


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
