//! `sen12lite export`: the catalog's scenes for tools outside SQLite — GeoParquet 1.1 (DuckDB,
//! GeoPandas, pyarrow, Spark, Sedona), STAC items as stac-geoparquet, GeoPackage (QGIS and every
//! OGR client, with the other tables) and GeoJSON — selected by the user's own `WHERE` over the
//! exported columns.

pub mod error;
pub mod geoparquet;
mod nested;
mod ogr;
pub mod scenes;
mod stac;

pub use error::ExportError;
use ogr::{LayerSpec, Output};
use rusqlite::{Connection, OpenFlags};
use scenes::{scene_query, Kind, SceneQuery, Times};
use std::path::Path;
use std::str::FromStr;

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// GeoParquet 1.1, one row per scene.
    GeoParquet,
    /// STAC items (one per scene) as stac-geoparquet.
    StacGeoParquet,
    /// A GeoPackage: the `scenes` polygon layer and the exported scenes' rows of the other tables.
    Gpkg,
    /// One GeoJSON FeatureCollection of the scenes.
    GeoJson,
}

impl FromStr for Format {
    type Err = ExportError;

    fn from_str(name: &str) -> Result<Format, ExportError> {
        match name {
            "geoparquet" => Ok(Format::GeoParquet),
            "stac-geoparquet" => Ok(Format::StacGeoParquet),
            "gpkg" => Ok(Format::Gpkg),
            "geojson" => Ok(Format::GeoJson),
            other => Err(ExportError::UnknownFormat(other.to_string())),
        }
    }
}

/// The catalog's tables that a GeoPackage export carries beside `scenes`, with the rows of the
/// exported scenes (`ingest_errors` whole: its rows belong to no scene).
const TABLES_WITH_SCENES: [&str; 3] = ["files", "band_stats", "landcover"];

/// Writes the scenes that `filter` keeps (all without one) from `catalog` to `out`, which must not
/// exist; the number of scenes written.
pub fn export(catalog: &Path, out: &Path, format: Format, filter: Option<&str>) -> Result<u64, ExportError> {
    if out.exists() {
        return Err(ExportError::Request(format!("{} exists: name a new file", out.display())));
    }
    let conn = Connection::open_with_flags(catalog, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| ExportError::Request(format!("cannot open {}: {e}", catalog.display())))?;
    let parquet = matches!(format, Format::GeoParquet | Format::StacGeoParquet);
    let times = if parquet { Times::Millis } else { Times::Text };
    let query = scene_query(&conn, filter, times)?;
    // A bad --where is refused before any file exists.
    conn.prepare(&query.sql).map_err(|e| match filter {
        Some(filter) => ExportError::Request(format!("--where '{filter}': {}", sqlite_message(&e))),
        None => ExportError::Sqlite(e),
    })?;
    match format {
        Format::GeoParquet => write_parquet(out, |file| geoparquet::write(&conn, &query, file)),
        Format::StacGeoParquet => write_parquet(out, |file| stac::write(&conn, &query, file)),
        Format::Gpkg | Format::GeoJson => write_with_ogr(&conn, &query, out, format),
    }
}

/// `written`, and when it failed, `out` (which this export created) removed: never half a file
/// that looks whole.
fn removed_on_error(out: &Path, written: Result<u64, ExportError>) -> Result<u64, ExportError> {
    if written.is_err() {
        let _ = std::fs::remove_file(out);
    }
    written
}

/// SQLite's own message, without the statement rusqlite appends.
fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

/// Creates `out` (never over another file) and has `write` fill it.
fn write_parquet(
    out: &Path,
    write: impl FnOnce(std::fs::File) -> Result<u64, ExportError>,
) -> Result<u64, ExportError> {
    let file = std::fs::File::create_new(out)
        .map_err(|e| ExportError::Request(format!("cannot create {}: {e}", out.display())))?;
    removed_on_error(out, write(file))
}

fn write_with_ogr(conn: &Connection, query: &SceneQuery, out: &Path, format: Format) -> Result<u64, ExportError> {
    let driver = if format == Format::Gpkg { "GPKG" } else { "GeoJSON" };
    let mut output = Output::create(driver, out)?;
    let written = output.in_transaction(|output| {
        let fields = query.columns.iter().map(|c| (c.name.clone(), c.kind)).collect();
        let scenes =
            output.write_layer(conn, &LayerSpec { name: "scenes", fields, sql: &query.sql, footprint: true })?;
        if format == Format::Gpkg {
            let ids = format!("SELECT scene_id FROM ({})", query.sql);
            for table in TABLES_WITH_SCENES {
                write_table(output, conn, table, &format!("WHERE scene_id IN ({ids})"))?;
            }
            write_table(output, conn, "ingest_errors", "")?;
        }
        Ok(scenes)
    });
    drop(output); // closed before a failed file is removed
    removed_on_error(out, written)
}

/// A table of the catalog as a layer of its own, typed as the catalog declares its columns.
fn write_table(output: &mut Output, conn: &Connection, table: &str, filter: &str) -> Result<(), ExportError> {
    let mut info = conn
        .prepare(&format!("PRAGMA table_info({table})"))
        .map_err(|e| ExportError::Request(format!("{table}: {e}")))?;
    let fields: Vec<(String, Kind)> = info
        .query_map([], |r| Ok((r.get::<_, String>(1)?, Kind::of_declared(&r.get::<_, String>(2)?))))
        .and_then(|rows| rows.collect())
        .map_err(|e| ExportError::Request(format!("{table}: {e}")))?;
    let names: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
    let sql = format!("SELECT {} FROM {table} {filter}", names.join(", "));
    output.write_layer(conn, &LayerSpec { name: table, fields, sql: &sql, footprint: false })?;
    Ok(())
}
