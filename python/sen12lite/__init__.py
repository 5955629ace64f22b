"""sen12lite: SQL over the SEN12TP and SEN12MS Sentinel-1/-2 datasets.

The wheel carries the loadable SQLite extension (with a private GDAL), the `sen12lite` command,
and plugins for Datasette and sqlite-utils. This module finds the extension and loads it:

    import sen12lite
    conn = sen12lite.connect("catalog.db")            # any Python, even one whose sqlite3 cannot
    blob = conn.execute("SELECT s12_window(1, 's2', 'B4', 0, 0, 256, 256)").fetchone()[0]
    a = sen12lite.array(blob)                         # numpy, without a copy
"""

import io
import sqlite3
import sys
from pathlib import Path

__all__ = ["loadable_path", "load", "connect", "connection_module", "engine", "array"]

_HERE = Path(__file__).resolve().parent


def loadable_path() -> str:
    """The extension's path as SQLite's load_extension takes it (without `.so`, which SQLite adds).

    Keep it where the wheel put it: the entry library loads its implementation from the
    `sen12lite.libs` folder beside it."""
    return str(_HERE / "sen12lite")


def load(conn) -> None:
    """Load the extension into an open connection of pysqlite3, sqlite3, apsw or sqlean.

    Extension loading is switched on for the call only, so SQL cannot load other libraries later."""
    if not hasattr(conn, "enable_load_extension"):
        raise RuntimeError(
            f"sen12lite.load: {type(conn).__module__}.{type(conn).__name__} cannot load extensions "
            "(this Python's sqlite3 was built without them); use sen12lite.connect(path), "
            "which uses pysqlite3"
        )
    conn.enable_load_extension(True)
    try:
        conn.load_extension(loadable_path())
    finally:
        conn.enable_load_extension(False)


def connection_module():
    """The DB-API module `connect` uses: pysqlite3 (a dependency of this package on x86-64, the
    only processor pysqlite3-binary has wheels for: sqlite3's API with its own SQLite), the one
    Datasette and sqlite-utils pick too, so that a process that uses all three holds one SQLite
    library; else the standard library's sqlite3 where it can load extensions."""
    try:
        from pysqlite3 import dbapi2

        return dbapi2
    except ImportError:
        pass
    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    raise RuntimeError(
        "sen12lite.connect: this Python's sqlite3 cannot load extensions and pysqlite3 is not "
        "installed (pip install pysqlite3-binary on x86-64; elsewhere pip install pysqlite3, which "
        "compiles against the system's libsqlite3-dev, or use a Python whose sqlite3 can: Debian's, "
        "Ubuntu's, conda's)"
    )


def connect(database, **kwargs):
    """A DB-API connection to `database` with the extension loaded (see `connection_module`)."""
    conn = connection_module().connect(database, **kwargs)
    try:
        load(conn)
    except BaseException:
        conn.close()
        raise
    return conn


_warned = False


def load_for_plugin(conn, host: str) -> None:
    """What the Datasette and sqlite-utils plugins do with each connection: load the extension, or,
    where that cannot be done, say so once on stderr and leave the connection as it is: the tool
    still works on every database, without the s12_ functions."""
    global _warned
    try:
        load(conn)
    except Exception as e:  # the host's own error type, or ours
        if not _warned:
            _warned = True
            print(f"sen12lite: the {host} plugin cannot load the extension, s12_ functions are missing: {e}",
                  file=sys.stderr)


def engine(database, **kwargs):
    """A SQLAlchemy engine over `database` whose every connection has the extension loaded (from
    `connect`), for pandas (`pandas.read_sql_query(sql, engine)`) and other SQLAlchemy users. The
    usual `connect` event that calls `enable_load_extension` fails on a Python whose sqlite3 cannot
    load extensions; this works on every Python. `kwargs` go to `sqlalchemy.create_engine`."""
    import sqlalchemy

    return sqlalchemy.create_engine(
        "sqlite://", module=connection_module(), creator=lambda: connect(database), **kwargs
    )


def array(blob):
    """The numpy array of an `.npy` blob (s12_window, s12_index, s12_window_mask, ...).

    It views the blob's bytes without copying them, so it is read-only: `.copy()` it to write."""
    try:
        import numpy
        from numpy.lib import format as npy
    except ImportError as e:  # a dependency of the package: only a broken install lacks it
        raise ImportError("sen12lite.array needs numpy: pip install numpy") from e
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise TypeError(f"sen12lite.array: expected the bytes of an .npy blob, got {type(blob).__name__}")
    header = io.BytesIO(blob)
    try:
        version = npy.read_magic(header)
        read_header = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}[version]
        shape, fortran, dtype = read_header(header)
    except (KeyError, ValueError) as e:
        raise ValueError(f"sen12lite.array: not an .npy blob ({e})") from None
    values = numpy.frombuffer(blob, dtype=dtype, count=int(numpy.prod(shape)), offset=header.tell())
    return values.reshape(shape, order="F" if fortran else "C")
