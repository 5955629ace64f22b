//! The `sen12lite` command: ingest, merge, synth, verify, demo, export, sql.

mod cli;

use clap::{Parser, Subcommand};
use cli::progress::ProgressLine;
use sen12lite::catalog::export::{export, Format};
use sen12lite::catalog::ingest::{ingest, ingest_part, IngestOptions, KeptQuicklooks};
use sen12lite::catalog::merge::merge;
use sen12lite::catalog::shard::Shard;
use sen12lite::layout::is_archive;
use sen12lite::layout::sen12tp::EMBEDDED_METADATA;
use sen12lite::layout::Dataset;
use sen12lite::parallel::default_jobs;
use sen12lite::raster::open::is_virtual;
use sen12lite::synth::{synth, LcType, SynthOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "sen12lite", version, about = "SQL over the SEN12TP and SEN12MS Sentinel-1/-2 datasets")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Catalogue a SEN12TP or SEN12MS tree into an SQLite file (incremental).
    Ingest {
        /// The data folder, or archives of one folder (only those are ingested, the rest of the catalog stays).
        #[arg(required = true, value_name = "DATA_DIR | ARCHIVE...")]
        data: Vec<PathBuf>,
        #[arg(long)]
        db: PathBuf,
        /// Worker threads (default: the number of cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Headers only: no band statistics, cloud fraction, NDVI or land cover.
        #[arg(long)]
        no_stats: bool,
        /// Do not check files against md5sums.txt (checked by default when the tree has one).
        #[arg(long)]
        no_checksums: bool,
        /// Whose quicklooks to keep (at most 512 px, what s12_png(scene, what) returns): `large`,
        /// the files larger than that (SEN12TP's scenes); `all` (SEN12MS's too: about 250 KB a
        /// triplet); `none`.
        #[arg(long, default_value = "large")]
        quicklooks: KeptQuicklooks,
        /// Catalogue files that are symlinks to places outside DATA_DIR (refused by default).
        #[arg(long)]
        follow_symlinks: bool,
        /// Commit after at most N files (default: every 2 s). A batch is all or nothing.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        batch_files: Option<u64>,
        /// DATA_DIR may be in object storage (/vsis3/bucket/prefix, /vsigs/, /vsiaz/, /vsicurl/):
        /// the catalog then names that root (also allowed by a prefix in SEN12LITE_ALLOW_REMOTE).
        #[arg(long)]
        allow_remote: bool,
        /// Only shard K of N (0-based: 0/4 to 3/4), each scene's or triplet's files together, into a
        /// part for `sen12lite merge`; --db is written as DB.partial and renamed when the shard is done.
        #[arg(long, value_name = "K/N")]
        shard: Option<Shard>,
    },
    /// Join the parts of a sharded ingest (`ingest --shard K/N`, every K once) into one catalog,
    /// the one an ingest of the whole tree gives. OUT is written whole or left as it was.
    Merge {
        out: PathBuf,
        #[arg(required = true, value_name = "PART")]
        parts: Vec<PathBuf>,
    },
    /// Write deterministic test data in the exact layout of a dataset.
    Synth {
        out_dir: PathBuf,
        /// The dataset whose layout to write: sen12tp or sen12ms.
        #[arg(long, value_name = "DATASET")]
        layout: Dataset,
        /// SEN12TP metadata to draw scenes from (default: the bundled real file).
        #[arg(long)]
        metadata: Option<PathBuf>,
        /// Scenes (SEN12TP) or patch triplets (SEN12MS) with pixels.
        #[arg(long, default_value_t = 4)]
        scenes: usize,
        /// Pixels a side (default: 2000 for SEN12TP, 256 for SEN12MS, the real sizes).
        #[arg(long)]
        size: Option<usize>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// SEN12MS land cover as `byte` (RGB + alpha tags, as the files we have seen) or `uint16`.
        #[arg(long, value_name = "TYPE", default_value = "byte")]
        lc_dtype: LcType,
        /// SEN12MS triplets a scene folder holds (default 3; the real dataset has about 700 a scene).
        #[arg(long, value_name = "N")]
        patches_per_scene: Option<usize>,
        /// Pack the rasters as the downloads: SEN12MS one .tar.gz per season and kind, SEN12TP a .zip per split.
        #[arg(long)]
        archives: bool,
        /// Also write this SEN12TP scene of the metadata (repeat for more).
        #[arg(long = "scene-id", value_name = "ID")]
        scene_ids: Vec<i64>,
    },
    /// Check md5sums.txt below a data folder, in parallel.
    Verify {
        data_dir: PathBuf,
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Synthesize a small SEN12TP tree from the bundled metadata, ingest it, run the example queries.
    Demo {
        #[arg(long, default_value = "demo-data")]
        dir: PathBuf,
        #[arg(long, default_value_t = 24)]
        scenes: usize,
        #[arg(long, default_value_t = 400)]
        size: usize,
    },
    /// Write the catalog's scenes as GeoParquet, STAC items, GeoPackage or GeoJSON, for tools outside SQLite.
    Export {
        catalog: PathBuf,
        out: PathBuf,
        /// geoparquet (1.1, with a bbox covering column), stac-geoparquet (STAC items), gpkg (with the other tables) or geojson.
        #[arg(long)]
        format: Format,
        /// Only the scenes this SQL expression keeps, over the exported columns (e.g. "has_files AND cloud_fraction < 0.05").
        #[arg(long = "where", value_name = "SQL")]
        filter: Option<String>,
    },
    /// Run SQL on a catalog with the s12_ functions registered (for clients that cannot load extensions).
    Sql {
        db: PathBuf,
        /// The statements; they may start with `--` comments. Without SQL (or `-`), read from standard input.
        #[arg(allow_hyphen_values = true, conflicts_with = "file")]
        sql: Option<String>,
        /// Read the statements from FILE (e.g. sql/examples/03_alps_summer_pairs.sql).
        #[arg(short = 'f', long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Write the first value of the last statement (an .npy or .png BLOB) to this file.
        #[arg(long)]
        blob: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    if let Ok(exe) = std::env::current_exe() {
        sen12lite::raster::bundled::use_bundled_data(&exe);
    }
    match run(Cli::parse().command) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("sen12lite: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs one verb; Err is a usage or setup problem (exit 2), Ok(1) a run that found failures.
fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Ingest {
            data,
            db,
            jobs,
            no_stats,
            no_checksums,
            quicklooks,
            follow_symlinks,
            batch_files,
            allow_remote,
            shard,
        } => {
            let (data_dir, archives) = folder_and_archives(&data)?;
            let options = IngestOptions {
                jobs: jobs.unwrap_or_else(default_jobs),
                statistics: !no_stats,
                checksums: !no_checksums,
                quicklooks,
                follow_symlinks,
                batch_files: batch_files.map(|n| n as usize),
                archives,
                allow_remote,
                shard,
            };
            run_ingest(&data_dir, &db, &options)
        }
        Command::Merge { out, parts } => {
            let report = merge(&out, &parts).map_err(|e| e.to_string())?;
            println!(
                "merge: {} parts into {}: {} scenes, {} files, {} ingest errors",
                report.parts,
                out.display(),
                report.scenes,
                report.files,
                report.errors
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Synth {
            out_dir,
            layout,
            metadata,
            scenes,
            size,
            seed,
            lc_dtype,
            patches_per_scene,
            archives,
            scene_ids,
        } => {
            let text = match metadata {
                Some(path) => std::fs::read_to_string(&path).map_err(|e| format!("synth: {}: {e}", path.display()))?,
                None => EMBEDDED_METADATA.to_string(),
            };
            let size = size.unwrap_or(layout.published_size());
            let written = synth(
                &out_dir,
                layout,
                &text,
                &SynthOptions { scenes, size, seed, lc_type: lc_dtype, patches_per_scene, archives, scene_ids },
            )
            .map_err(|e| e.to_string())?;
            println!("synth: wrote {written} files to {}", out_dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { data_dir, jobs } => run_verify(&data_dir, jobs),
        Command::Export { catalog, out, format, filter } => {
            let scenes = export(&catalog, &out, format, filter.as_deref()).map_err(|e| e.to_string())?;
            eprintln!("export: {scenes} scenes to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { dir, scenes, size } => {
            cli::demo::run_demo(&dir, scenes, size)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sql { db, sql, file, blob } => {
            let sql = sql_text(sql, file.as_deref())?;
            cli::sql::run_sql(&db, &sql, blob.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The statements of `sen12lite sql`: the argument, the file of `-f`, or standard input (no
/// argument, or `-`).
fn sql_text(argument: Option<String>, file: Option<&Path>) -> Result<String, String> {
    use std::io::Read;
    match (argument, file) {
        (_, Some(path)) => {
            std::fs::read_to_string(path).map_err(|e| format!("sql: cannot read {}: {e}", path.display()))
        }
        (Some(sql), None) if sql != "-" => Ok(sql),
        _ => {
            let mut sql = String::new();
            std::io::stdin().read_to_string(&mut sql).map_err(|e| format!("sql: cannot read standard input: {e}"))?;
            Ok(sql)
        }
    }
}

/// `DATA_DIR`, or archives of one folder: (the folder, the archives' names; none for a folder).
fn folder_and_archives(paths: &[PathBuf]) -> Result<(PathBuf, Vec<String>), String> {
    if let [folder] = paths {
        if folder.is_dir() || is_virtual(folder) {
            return Ok((folder.clone(), Vec::new()));
        }
    }
    if let Some(remote) = paths.iter().find(|path| is_virtual(path)) {
        return Err(format!(
            "ingest: {} is in object storage: a remote tree is ingested whole, from its root alone, and not \
             mixed with other paths",
            remote.display()
        ));
    }
    let name = |path: &PathBuf| path.file_name().map(|n| n.to_string_lossy().into_owned()).filter(|n| is_archive(n));
    let folder = folder_of(&paths[0]);
    let mut names = Vec::new();
    for path in paths {
        match name(path) {
            Some(name) if folder_of(path) == folder => names.push(name),
            _ => {
                return Err(format!(
                    "ingest: {} is not a data folder, nor an archive beside the others",
                    path.display()
                ))
            }
        }
    }
    Ok((folder, names))
}

/// The folder a file is in (`.` for a bare name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Ingests and reports: exit 1 when the catalog could not be written whole or an input failed.
fn run_ingest(data_dir: &Path, db: &Path, options: &IngestOptions) -> Result<ExitCode, String> {
    let progress = &mut ProgressLine::new("ingest");
    let report = match options.shard {
        Some(_) => ingest_part(data_dir, db, options, progress),
        None => ingest(data_dir, db, options, progress),
    }
    .map_err(|e| e.to_string())?;
    if let Some(message) = &report.nothing_to_ingest {
        eprintln!("sen12lite: ingest {}: {message}", data_dir.display());
        return Ok(ExitCode::from(1));
    }
    if let Some(error) = &report.write_error {
        eprintln!(
            "sen12lite: ingest stopped: {error}; {} scanned files were committed, whole, and the next run \
             completes the catalog",
            report.files_written
        );
        return Ok(ExitCode::from(1));
    }
    println!(
        "ingest: {} metadata scenes, {} files found, {} scanned, {} unchanged, {} removed, {} failed",
        report.metadata_scenes,
        report.files_found,
        report.files_scanned,
        report.files_unchanged,
        report.files_removed,
        report.failures
    );
    if report.archived_copies > 0 {
        println!(
            "ingest: {} files are also inside the downloaded archives beside them: the unpacked copies are the ones \
             catalogued",
            report.archived_copies
        );
    }
    if report.left_in_wal {
        eprintln!(
            "sen12lite: another connection has {} open, so it stays in WAL mode: copy it with its -wal file, or \
             run the ingest again when it is closed to make it one file that opens read-only anywhere",
            db.display()
        );
    }
    if report.failures > 0 {
        eprintln!(
            "sen12lite: {} inputs failed; see: sqlite3 {} 'SELECT * FROM ingest_errors'",
            report.failures,
            db.display()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks md5sums.txt and lists the mismatches: exit 1 when there is one.
fn run_verify(data_dir: &Path, jobs: Option<usize>) -> Result<ExitCode, String> {
    let (checked, mismatches) = sen12lite::verify::verify_tree(data_dir, jobs, &mut ProgressLine::new("verify"))
        .map_err(|e| format!("verify: {e}"))?;
    for m in &mismatches {
        println!("{}: {}", m.path, m.problem);
    }
    println!("verify: {checked} files checked, {} mismatched", mismatches.len());
    Ok(if mismatches.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
