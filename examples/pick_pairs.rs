//! Build a catalog from Rust and pick training pairs with SQL. After `make demo`:
//!
//!     cargo run --release --example pick_pairs -- demo-data/sen12tp demo-data/pairs.db

use sen12lite::catalog::ingest::{ingest, IngestOptions};
use sen12lite::progress::Silent;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [data, db] = args.as_slice() else {
        return Err("usage: pick_pairs DATA_DIR CATALOG.db".into());
    };
    let report = ingest(data, db, &IngestOptions { jobs: 2, ..Default::default() }, &mut Silent)?;
    eprintln!(
        "pick_pairs: {} files found, {} read, {} failed (see the catalog's ingest_errors)",
        report.files_found, report.files_scanned, report.failures
    );
    if let Some(error) = report.write_error {
        return Err(error.into());
    }
    let conn = rusqlite::Connection::open(db)?;
    let pairs = "SELECT name, season, round(abs_dt_hours, 2) AS dt_h, round(cloud_fraction, 4) AS cloud, \
                 round(cropland, 3) AS cropland FROM training_pairs \
                 WHERE abs_dt_hours <= 6 AND cloud_fraction < 0.05 ORDER BY cropland DESC LIMIT 10";
    let mut statement = conn.prepare(pairs)?;
    println!("{:<10} {:<7} {:>6} {:>7} {:>8}", "name", "season", "dt_h", "cloud", "cropland");
    let rows = statement.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, f64>(2)?,
            r.get::<_, f64>(3)?,
            r.get::<_, f64>(4)?,
        ))
    })?;
    for row in rows {
        let (name, season, dt_h, cloud, cropland) = row?;
        println!("{name:<10} {season:<7} {dt_h:>6} {cloud:>7} {cropland:>8}");
    }
    Ok(())
}
