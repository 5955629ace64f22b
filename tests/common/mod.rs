//! The fixture of the Rust integration tests: a small SEN12TP tree written by `synth` and its
//! catalog, made once per test binary, and a connection with the functions registered. The oracle
//! is GDAL itself (the `gdal` crate), reading the same files directly. Each test binary uses a
//! part of this module.
#![allow(dead_code)]

use rusqlite::Connection;
use sen12lite::catalog::ingest::{ingest, IngestOptions};
use sen12lite::layout::sen12tp::EMBEDDED_METADATA;
use sen12lite::layout::Dataset;
use sen12lite::progress::Silent;
use sen12lite::synth::{synth, LcType, SynthOptions};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The scene every test reads (the first the synth writes with seed 3, as the Python tests use).
pub const SCENE: i64 = 390;

/// (the data root, the catalog), made once.
pub fn catalog() -> &'static (PathBuf, PathBuf) {
    static CATALOG: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("sen12lite-rs-{}-{}", env!("CARGO_CRATE_NAME"), std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let data = dir.join("data");
        let options = SynthOptions {
            scenes: 8,
            size: 240,
            seed: 3,
            lc_type: LcType::Byte,
            patches_per_scene: None,
            archives: false,
            scene_ids: vec![],
        };
        synth(&data, Dataset::Sen12tp, EMBEDDED_METADATA, &options).unwrap();
        let db = dir.join("catalog.db");
        let report = ingest(&data, &db, &IngestOptions::default(), &mut Silent).unwrap();
        assert_eq!(report.failures, 0, "{report:?}");
        (data, db)
    })
}

/// A connection to the catalog with the `s12_` functions.
pub fn connection() -> Connection {
    let conn = Connection::open(&catalog().1).unwrap();
    sen12lite::register(&conn).unwrap();
    conn
}

/// The file of `modality` of the scene, opened by GDAL directly.
pub fn gdal_file(conn: &Connection, scene: i64, modality: &str) -> gdal::Dataset {
    let path: String = conn
        .query_row("SELECT path FROM files WHERE scene_id = ?1 AND modality = ?2", (scene, modality), |r| r.get(0))
        .unwrap();
    gdal::Dataset::open(catalog().0.join(path)).unwrap()
}

/// A window of one band (1-based) as f64, as GDAL reads it.
pub fn gdal_window(file: &gdal::Dataset, band: usize, [col, row, width, height]: [usize; 4]) -> Vec<f64> {
    let band = file.rasterband(band).unwrap();
    band.read_as::<f64>((col as isize, row as isize), (width, height), (width, height), None).unwrap().data().to_vec()
}
