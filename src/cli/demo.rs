//! `sen12lite demo`: a small SEN12TP tree from the bundled metadata, ingested, then the example
//! queries of sql/examples run against it.

use crate::catalog::ingest::{ingest, IngestOptions};
use crate::layout::sen12tp::EMBEDDED_METADATA;
use crate::synth::{synth, Layout};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Statement};
use std::path::Path;

/// The example queries, in the order the demo prints them.
pub const EXAMPLES: [(&str, &str); 8] = [
    ("01_scene_counts.sql", include_str!("../../sql/examples/01_scene_counts.sql")),
    ("02_download_plan.sql", include_str!("../../sql/examples/02_download_plan.sql")),
    ("03_alps_summer_pairs.sql", include_str!("../../sql/examples/03_alps_summer_pairs.sql")),
    ("04_clear_green_pairs.sql", include_str!("../../sql/examples/04_clear_green_pairs.sql")),
    ("05_region_and_time.sql", include_str!("../../sql/examples/05_region_and_time.sql")),
    ("06_landcover_mix.sql", include_str!("../../sql/examples/06_landcover_mix.sql")),
    ("07_band_stats.sql", include_str!("../../sql/examples/07_band_stats.sql")),
    ("08_ingest_errors.sql", include_str!("../../sql/examples/08_ingest_errors.sql")),
];

pub fn run_demo(dir: &Path, scenes: usize, size: usize) -> Result<(), String> {
    let data = dir.join("sen12tp");
    if !data.join("md5sums.txt").exists() {
        eprintln!("demo: synthesizing {scenes} scenes of {size} px into {}", data.display());
        synth(&data, Layout::Sen12tp, EMBEDDED_METADATA, scenes, size, 1)?;
    }
    let db = dir.join("catalog.db");
    let report = ingest(&data, &db, &IngestOptions::default())?;
    eprintln!("demo: {report:?}");
    if let Some(error) = report.write_error {
        return Err(format!("demo: {error}"));
    }
    let conn = Connection::open(&db).map_err(|e| e.to_string())?;
    for (name, sql) in EXAMPLES {
        println!("\n-- {name}\n{}", sql.lines().filter(|l| l.starts_with("--")).collect::<Vec<_>>().join("\n"));
        print!("{}", format_query(&conn, sql).map_err(|e| format!("demo: {name}: {e}"))?);
    }
    println!("\ncatalog: {}  (open it with: sqlite3 {})", db.display(), db.display());
    Ok(())
}

/// Runs one query and formats it like `sqlite3 -header -column` would: a header, then rows.
pub fn format_query(conn: &Connection, sql: &str) -> rusqlite::Result<String> {
    format_statement(&mut conn.prepare(sql)?)
}

pub fn format_statement(statement: &mut Statement) -> rusqlite::Result<String> {
    let names: Vec<String> = statement.column_names().iter().map(|n| n.to_string()).collect();
    let mut rows: Vec<Vec<String>> = vec![names.clone()];
    let mut cursor = statement.query([])?;
    while let Some(row) = cursor.next()? {
        rows.push((0..names.len()).map(|i| row.get_ref(i).map(cell).unwrap_or_default()).collect());
    }
    let widths: Vec<usize> =
        (0..names.len()).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (index, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if index == 0 {
            out.push_str(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
            out.push('\n');
        }
    }
    Ok(out)
}

fn cell(value: ValueRef) -> String {
    match value {
        ValueRef::Null => String::new(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => format!("<{} bytes>", b.len()),
    }
}
