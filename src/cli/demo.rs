//! `sen12lite demo`: a small SEN12TP tree from the bundled metadata, ingested, then the example
//! queries of sql/examples run against it, an NDVI read from pixels and a quicklook written.

use super::progress::ProgressLine;
use super::table::format_query;
use rusqlite::Connection;
use sen12lite::catalog::ingest::{ingest, IngestOptions, IngestReport};
use sen12lite::layout::sen12tp::EMBEDDED_METADATA;
use sen12lite::layout::Dataset;
use sen12lite::synth::{synth, LcType, SynthOptions};
use sen12lite::verify::{read_md5sums, MD5SUMS_FILE};
use std::path::Path;
use std::time::Instant;

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

/// SEN12TP's Alpine summer scenes whose S1 and S2 are within 6 h (three of grassland): the demo
/// writes them besides the scenes it picks across the climates, so that example 03 has its answer.
const ALPINE_SUMMER_SCENES: [i64; 3] = [1313, 1339, 1748];

/// The scene whose NDVI and quicklook the demo shows: the first of the clear, green pairs.
const SHOWN_SCENE: &str = "SELECT scene_id, name FROM training_pairs ORDER BY cloud_fraction, ndvi_mean DESC LIMIT 1";

/// `sen12lite demo`: synthesizes `scenes` SEN12TP scenes of `size` px under `dir`, ingests them and prints the example
/// queries with their results, an NDVI from pixels and the path of a quicklook.
pub fn run_demo(dir: &Path, scenes: usize, size: usize) -> Result<(), String> {
    let data = dir.join("sen12tp");
    if !data.join("md5sums.txt").exists() {
        eprintln!("demo: synthesizing {scenes} scenes of {size} px into {}", data.display());
        let options = SynthOptions {
            scenes,
            size,
            seed: 1,
            lc_type: LcType::Byte,
            patches_per_scene: None,
            archives: false,
            scene_ids: ALPINE_SUMMER_SCENES.to_vec(),
        };
        synth(&data, Dataset::Sen12tp, EMBEDDED_METADATA, &options).map_err(|e| e.to_string())?;
        damage_one_file(&data)?;
    }
    let db = dir.join("catalog.db");
    let started = Instant::now();
    let report =
        ingest(&data, &db, &IngestOptions::default(), &mut ProgressLine::new("ingest")).map_err(|e| e.to_string())?;
    if let Some(error) = &report.write_error {
        return Err(format!("demo: {error}"));
    }
    let conn = Connection::open(&db).map_err(|e| e.to_string())?;
    println!("{}", summary(&conn, &report, started.elapsed().as_secs_f64()).map_err(|e| format!("demo: {e}"))?);
    for (name, sql) in EXAMPLES {
        println!("\n-- {name}\n{}", sql.lines().filter(|l| l.starts_with("--")).collect::<Vec<_>>().join("\n"));
        print!("{}", format_query(&conn, sql).map_err(|e| format!("demo: {name}: {e}"))?);
    }
    sen12lite::sql::register(&conn).map_err(|e| format!("demo: {e}"))?;
    show_pixels(&conn, dir).map_err(|e| format!("demo: {e}"))?;
    println!("\ncatalog: {}  (open it with: sqlite3 {})", db.display(), db.display());
    Ok(())
}

/// Cuts one S1 file short, as an interrupted download leaves it, so that the ingest has an error
/// to record and example 08 something to show: the catalog keeps going without it.
fn damage_one_file(data: &Path) -> Result<(), String> {
    let listed = read_md5sums(&data.join(MD5SUMS_FILE)).map_err(|e| format!("demo: {e}"))?;
    let Some(path) = listed.into_iter().map(|(_, path)| path).filter(|p| p.ends_with("_s1.tif")).max() else {
        return Ok(());
    };
    let victim = data.join(path);
    let file = std::fs::OpenOptions::new().write(true).open(&victim).map_err(|e| format!("demo: {e}"))?;
    file.set_len(4096).map_err(|e| format!("demo: cannot truncate {}: {e}", victim.display()))?;
    eprintln!(
        "demo: cut {} short, as an interrupted download leaves a file (see 08_ingest_errors.sql)",
        victim.display()
    );
    Ok(())
}

/// One paragraph for a person: what was catalogued, what failed, how long it took.
fn summary(conn: &Connection, report: &IngestReport, seconds: f64) -> rusqlite::Result<String> {
    let (scenes, on_disk): (i64, i64) =
        conn.query_row("SELECT count(*), count(*) FILTER (WHERE has_files) FROM scenes", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let errors: i64 = conn.query_row("SELECT count(*) FROM ingest_errors", [], |r| r.get(0))?;
    Ok(format!(
        "demo: catalogued {scenes} scenes ({on_disk} with files on disk): {} files found, {} read, {} unchanged \
         since the last run; ingest_errors: {errors}; {seconds:.1} s",
        report.files_found, report.files_scanned, report.files_unchanged
    ))
}

/// The pixel functions at work: a scene's NDVI computed from its pixels beside the catalog's, and
/// its true-colour quicklook written as a PNG.
fn show_pixels(conn: &Connection, dir: &Path) -> Result<(), String> {
    let (scene, name): (i64, String) =
        conn.query_row(SHOWN_SCENE, [], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| e.to_string())?;
    let sql = format!(
        "SELECT round(s12_index_mean({scene}, 'ndvi'), 4) AS ndvi_from_pixels, round(ndvi_mean, 4) AS ndvi_in_catalog \
         FROM scenes WHERE scene_id = {scene}"
    );
    println!("\n-- NDVI of scene {name}, read from its pixels by s12_index_mean, beside the catalog's\n{sql};");
    print!("{}", format_query(conn, &sql).map_err(|e| e.to_string())?);
    let png: Vec<u8> = conn
        .query_row(&format!("SELECT s12_png({scene}, 'rgb', 0, 0, width, height) FROM files WHERE scene_id = {scene} AND modality = 's2'"), [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    let path = dir.join(format!("quicklook-{name}.png"));
    std::fs::write(&path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("\nquicklook: {} (s12_png({scene}, 'rgb', ...): true colour, 2-98 % stretch)", path.display());
    Ok(())
}
