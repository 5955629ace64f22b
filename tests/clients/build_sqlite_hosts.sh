#!/usr/bin/env bash
# Builds tests/clients/sqlite_host.c over the SQLite releases of several years, one host a release,
# into OUT_DIR/sqlite-VERSION. The amalgamations come from crates.io: each `libsqlite3-sys` crate
# version below bundles one SQLite (its version in brackets), fetched by cargo into its registry.
# RTREE and JSON1 are compiled in, as in the SQLite of every distribution.
set -euo pipefail
out=$(mkdir -p "$1" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
crates="0.15.0 0.17.3 0.22.2 0.25.2 0.26.0 0.30.1" # [3.28.0 3.31.0 3.35.4 3.39.2 3.41.2 3.46.0]
registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
for crate in $crates; do
  marker="$out/.crate-$crate"
  [ -f "$marker" ] && continue
  project="$out/fetch-$crate"
  mkdir -p "$project/src"
  printf 'fn main() {}\n' >"$project/src/main.rs"
  printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2018"\n[dependencies]\nlibsqlite3-sys = { version = "=%s", features = ["bundled"] }\n[workspace]\n' \
    "$crate" >"$project/Cargo.toml"
  (cd "$project" && cargo fetch -q)
  source=$(ls -d "$registry"/*/libsqlite3-sys-"$crate"/sqlite3 | head -n 1)
  version=$(sed -n 's/^#define SQLITE_VERSION  *"\(.*\)"/\1/p' "$source/sqlite3.h")
  gcc -O0 -w -DSQLITE_ENABLE_RTREE -DSQLITE_ENABLE_JSON1 -DSQLITE_THREADSAFE=1 -I"$source" \
    -o "$out/sqlite-$version" "$here/sqlite_host.c" "$source/sqlite3.c" -ldl -lpthread -lm
  touch "$marker"
  echo "sqlite host: $out/sqlite-$version"
done
