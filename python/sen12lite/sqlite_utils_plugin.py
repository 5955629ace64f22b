"""sqlite-utils plugin: every connection sqlite-utils opens has the extension, so that
`sqlite-utils query catalog.db "select s12_version()"` needs no --load-extension."""

from sqlite_utils import hookimpl

import sen12lite


@hookimpl
def prepare_connection(conn):
    sen12lite.load_for_plugin(conn, "sqlite-utils")
