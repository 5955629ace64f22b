//! `sen12lite demo`: a small SEN12TP tree from the bundled metadata, ingested, then the example
//! queries of sql/examples run against it.

use super::progress::ProgressLine;
use super::table::format_query;
use crate::catalog::ingest::{ingest, IngestOptions};
use crate::layout::sen12tp::EMBEDDED_METADATA;
use crate::layout::Dataset;
use crate::synth::{synth, LcType, SynthOptions};
use rusqlite::Connection;
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

/// `sen12lite demo`: synthesizes `scenes` SEN12TP scenes of `size` px under `dir`, ingests them and prints the example
/// queries with their results.
pub fn run_demo(dir: &Path, scenes: usize, size: usize) -> Result<(), String> {
    let data = dir.join("sen12tp");
    if !data.join("md5sums.txt").exists() {
        eprintln!("demo: synthesizing {scenes} scenes of {size} px into {}", data.display());
        synth(
            &data,
            Dataset::Sen12tp,
            EMBEDDED_METADATA,
            &SynthOptions { scenes, size, seed: 1, lc_type: LcType::Byte, archives: false },
        )?;
    }
    let db = dir.join("catalog.db");
    let report = ingest(&data, &db, &IngestOptions::default(), &mut ProgressLine::new("ingest"))?;
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
