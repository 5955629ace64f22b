#!/bin/sh
# A public, read-only Datasette over a sen12lite catalog: immutable catalog, no arbitrary SQL
# (canned queries only, from metadata.json), and every s12_ limit lowered so that no request can
# hold a query thread or the server's memory for long.
#
#   examples/datasette/serve-public.sh path/to/catalog.db [PORT]
#
# The catalog file must be called catalog.db (metadata.json names the database "catalog").
# SEN12LITE_EXT points at the extension (default: dist/sen12lite.so of this checkout) unless the
# wheel's plugin is installed. Every
# SEN12LITE_MAX_* below can be lowered further from the environment, never raised.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
catalog=$1
port=${2:-8001}
[ "$(basename "$catalog")" = catalog.db ] || { echo "serve-public.sh: name the catalog catalog.db" >&2; exit 2; }

# Datasette's own time limit is a progress handler, which SQLite consults between its VM
# instructions: it cannot stop a function that is running. This one can; both get the same budget.
export SEN12LITE_MAX_STATEMENT_MS=${SEN12LITE_MAX_STATEMENT_MS:-1000}
export SEN12LITE_MAX_READ_VALUES=${SEN12LITE_MAX_READ_VALUES:-16777216}   # 16 Mi values a statement
export SEN12LITE_MAX_WINDOW_VALUES=${SEN12LITE_MAX_WINDOW_VALUES:-1048576} # a 256 px window of 13 bands fits
export SEN12LITE_MAX_PNG_PIXELS=${SEN12LITE_MAX_PNG_PIXELS:-262144}        # 512 x 512 quicklooks
export SEN12LITE_MAX_PIXEL_ROWS=${SEN12LITE_MAX_PIXEL_ROWS:-65536}
export SEN12LITE_MAX_PATCHES=${SEN12LITE_MAX_PATCHES:-4096}
# The server's memory beyond Datasette's own: GDAL's block cache (MB; tiles decoded once stay there)
# and 16 open files per connection (docs/scale.md).
export GDAL_CACHEMAX=${GDAL_CACHEMAX:-128}

# With the wheel's Datasette plugin installed, Datasette loads the extension on its own.
datasette=${DATASETTE:-datasette}
if "$datasette" plugins | grep -q '"name": "sen12lite"'; then
  set --
else
  set -- --load-extension "${SEN12LITE_EXT:-$here/../../dist/sen12lite.so}"
fi

exec "$datasette" serve --immutable "$catalog" "$@" \
  --host 127.0.0.1 --port "$port" \
  --metadata "$here/metadata.json" \
  --setting sql_time_limit_ms "$SEN12LITE_MAX_STATEMENT_MS" \
  --setting max_returned_rows 1000 \
  --setting allow_download off
