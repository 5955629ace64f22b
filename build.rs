//! The command links SQLite statically (rusqlite's `bundled`) and GDAL dynamically; GDAL links the
//! system's libsqlite3. Left alone, the linker exports the static SQLite's symbols from the
//! executable because libgdal references them, and GDAL's SQLite and GeoPackage drivers (and PROJ's
//! proj.db) then run on our copy, built with other options: `sen12lite export --format gpkg`
//! crashed in sqlite3Close. Hiding the static libraries' symbols keeps each SQLite to its user.

fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,--exclude-libs,ALL");
}
