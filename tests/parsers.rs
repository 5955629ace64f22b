//! The cargo-fuzz properties (`sen12lite::properties`, run for real by `make fuzz-parsers`) on a
//! stable toolchain: mutations of the real metadata, of real file names, of geometries and of
//! synthesized GeoTIFFs in SEN12MS's layout. Fewer
//! inputs than a fuzzer tries, but every `make test` runs them, so a parser change that breaks a
//! property fails here first.

use sen12lite::layout::sen12tp::EMBEDDED_METADATA;
use sen12lite::layout::Dataset;
use sen12lite::properties::{check_geometry, check_metadata, check_names, check_scan, SCANNED_AS};
use sen12lite::synth::{synth, LcType, SynthOptions};

/// xorshift64*: deterministic, so a failure reproduces with the printed case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Text that parsers of JSON, numbers and names tend to get wrong.
const TOKENS: [&str; 16] = [
    "NaN",
    "-1e999",
    "1e309",
    "null",
    "[",
    "]",
    "{",
    "}",
    "\"",
    ",",
    "-0",
    "\u{0}",
    "9223372036854775808",
    "é",
    "_",
    ".tif",
];

/// One random edit: flip a byte, delete or duplicate a span, or insert a token.
fn mutate(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(4) {
            0 if at < out.len() => out[at] ^= 1 << rng.below(8),
            1 => {
                let end = (at + 1 + rng.below(64)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let end = (at + 1 + rng.below(64)).min(out.len());
                let span = out[at.min(end)..end].to_vec();
                out.splice(at..at, span);
            }
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..at, token.iter().copied());
            }
        }
    }
    out
}

/// The real file's header and its first `n` features, a valid FeatureCollection.
fn metadata_excerpt(n: usize) -> String {
    let lines: Vec<&str> = EMBEDDED_METADATA.lines().collect();
    let features = &lines[4..4 + n];
    format!("{}\n{}\n]\n}}\n", lines[..4].join("\n"), features.join("\n").trim_end_matches(','))
}

#[test]
fn metadata_properties_hold_on_20000_mutations_of_the_real_file() {
    let seed = metadata_excerpt(6);
    check_metadata(seed.as_bytes());
    assert_eq!(
        sen12lite::layout::sen12tp::parse_metadata(&seed).unwrap().scenes.len(),
        6,
        "the excerpt is a valid seed"
    );
    let mut rng = Rng(0x5e12);
    for case in 0..20_000 {
        let input = mutate(seed.as_bytes(), &mut rng);
        let outcome = std::panic::catch_unwind(|| check_metadata(&input));
        assert!(outcome.is_ok(), "case {case}: {}", String::from_utf8_lossy(&input));
    }
}

#[test]
fn name_properties_hold_on_100000_mutations_of_real_names() {
    let seeds = [
        "720_1868",
        "1868_s2.tif",
        "0_0/0_worldcover.tif",
        "ROIs1158_spring_s2_1_p30.tif",
        "ROIs2017_winter/lc_146/ROIs2017_winter_lc_146_p202.tif",
    ];
    let mut rng = Rng(0x7a11);
    for case in 0..100_000 {
        let input = mutate(seeds[case % seeds.len()].as_bytes(), &mut rng);
        let outcome = std::panic::catch_unwind(|| check_names(&input));
        assert!(outcome.is_ok(), "case {case}: {:?}", String::from_utf8_lossy(&input));
    }
}

#[test]
fn geometry_properties_hold_on_20000_mutations_of_geojson_and_wkt() {
    let seeds = [
        r#"{"type":"Polygon","coordinates":[[[11.3,47.2],[11.5,47.2],[11.5,47.3],[11.3,47.2]]]}"#,
        r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[11.39,47.26]},"properties":{}}"#,
        "POLYGON((11.3 47.2, 11.5 47.2, 11.5 47.3, 11.3 47.2))",
        "MULTIPOINT((1 2),(3 4))",
    ];
    let mut rng = Rng(0x6e0);
    for case in 0..20_000 {
        let input = mutate(seeds[case % seeds.len()].as_bytes(), &mut rng);
        let outcome = std::panic::catch_unwind(|| check_geometry(&input));
        assert!(outcome.is_ok(), "case {case}: {:?}", String::from_utf8_lossy(&input));
    }
}

#[test]
fn scan_properties_hold_on_2000_mutations_of_synthesized_geotiffs() {
    let tree = std::env::temp_dir().join(format!("sen12lite-parsers-{}", std::process::id()));
    let options = SynthOptions {
        scenes: 2,
        size: 32,
        seed: 9,
        lc_type: LcType::Byte,
        patches_per_scene: None,
        archives: false,
        scene_ids: vec![],
    };
    synth(&tree, Dataset::Sen12ms, EMBEDDED_METADATA, &options).unwrap();
    let seeds: Vec<(u8, Vec<u8>)> = (0..SCANNED_AS.len() as u8)
        .map(|k| {
            let kind = format!("_{}_", SCANNED_AS[k as usize]);
            let mut files: Vec<_> = walk(&tree).into_iter().filter(|p| p.to_string_lossy().contains(&kind)).collect();
            files.sort();
            (k, std::fs::read(&files[0]).unwrap())
        })
        .collect();
    for (k, file) in &seeds {
        assert!(check_scan(&[&[*k], file.as_slice()].concat()), "the {} seed is accepted", SCANNED_AS[*k as usize]);
    }
    let mut rng = Rng(0x71ff);
    let mut accepted = 0;
    for case in 0..2_000 {
        let (k, file) = &seeds[case % seeds.len()];
        let input = [vec![*k], mutate(file, &mut rng)].concat();
        let outcome = std::panic::catch_unwind(|| check_scan(&input));
        assert!(outcome.is_ok(), "case {case}: {} bytes as {}", input.len(), SCANNED_AS[*k as usize]);
        accepted += usize::from(outcome.unwrap_or(false));
    }
    // Both ways are taken: the properties are checked on accepted files, the refusals do not panic.
    assert!((100..1_900).contains(&accepted), "{accepted} of 2000 mutants accepted");
    std::fs::remove_dir_all(&tree).unwrap();
}

/// Every file below `folder`.
fn walk(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(folder)
        .unwrap()
        .flatten()
        .flat_map(|entry| if entry.path().is_dir() { walk(&entry.path()) } else { vec![entry.path()] })
        .collect()
}
