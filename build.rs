//! The command links SQLite statically (rusqlite's `bundled`) and GDAL dynamically; the system's
//! GDAL links the system's libsqlite3. Left alone, the linker exports the static SQLite's symbols
//! from the executable because libgdal references them, and GDAL's SQLite and GeoPackage drivers
//! (and PROJ's proj.db) then run on our copy, built with other options: `sen12lite export --format
//! gpkg` crashed in sqlite3Close. Hiding the static libraries' symbols keeps each SQLite to its user.
//!
//! The release wheels' GDAL (packaging/build_gdal.py) keeps its SQLite inside and references none:
//! nothing is exported then, and zig, which links those wheels, refuses `--exclude-libs`.

use std::path::Path;

const RELEASE_GDAL: &str = "libsen12lite_gdal.so";

fn main() {
    println!("cargo:rerun-if-env-changed=GDAL_LIB_DIR");
    let release_gdal = std::env::var_os("GDAL_LIB_DIR").is_some_and(|dir| Path::new(&dir).join(RELEASE_GDAL).exists());
    if !release_gdal {
        println!("cargo:rustc-link-arg-bins=-Wl,--exclude-libs,ALL");
    }
}
