"""The canonical check from Python: `python check.py CLIENT CATALOG EXTENSION QUERIES` prints the
first value of each statement of QUERIES (or `error: ...`), a line each. CLIENT is one of
sqlite3 (the standard library's, where it can load extensions), apsw, sqlean, pysqlite3, or
sqlalchemy (pandas over the engine `sen12lite.engine` gives, with the installed wheel's extension)."""
import sys


def dbapi_connection(client, catalog, extension):
    if client == "apsw":
        import apsw
        conn = apsw.Connection(catalog, flags=apsw.SQLITE_OPEN_READONLY)
    else:
        module = {"sqlite3": "sqlite3", "sqlean": "sqlean", "pysqlite3": "pysqlite3.dbapi2"}[client]
        conn = __import__(module, fromlist=["connect"]).connect(catalog)
    conn.enable_load_extension(True)
    conn.load_extension(extension)
    conn.enable_load_extension(False)
    return lambda sql: conn.execute(sql).fetchone()[0]


def sqlalchemy_query(catalog):
    import pandas
    import sen12lite
    engine = sen12lite.engine(catalog)
    return lambda sql: pandas.read_sql_query(sql, engine).iat[0, 0]


def main(client, catalog, extension, queries):
    first_value = sqlalchemy_query(catalog) if client == "sqlalchemy" else dbapi_connection(client, catalog, extension)
    for sql in open(queries).read().splitlines():
        if not sql.strip():
            continue
        try:
            value = first_value(sql)
            print("NULL" if value is None else value)
        except Exception as e:  # the client's own error type: each library has its own
            print("error:", " ".join(str(e).split()))  # on one line: SQLAlchemy adds lines of its own


if __name__ == "__main__":
    main(*sys.argv[1:])
