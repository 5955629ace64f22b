//! The plumbing of the aggregates over scenes (`s12_band_summary`, `s12_normalization`): each
//! row of a group gives a scene (scene_id or name) and arguments that every row repeats. The step
//! only gathers the scenes; the body runs once per group, in the final call, with one catalog
//! query for all of them. A lookup per row would prepare a statement per row (the connection a
//! call gets has no statement cache that outlives it) and cost more than the whole answer.

use super::arguments;
use super::arguments::{connection, describe, fail};
use super::resolve::names_band;
use crate::catalog::read::SceneRef;
use crate::catalog::read::{self, BandKey, BandStatsRow};
use crate::raster::sketch::QuantileSketch;
use crate::raster::stats::Moments;
use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

/// The scenes of a group, each once: a scene named twice (a join) has its pixels once in the union.
#[derive(Default)]
pub struct Scenes {
    ids: Vec<i64>,
    names: Vec<String>,
}

impl Scenes {
    /// The scene_ids of the group, as a JSON array for the catalog's queries (named scenes that
    /// the catalog lacks are left out).
    pub fn ids_json(&self, conn: &Connection) -> Result<(String, usize)> {
        let mut ids = self.ids.clone();
        if !self.names.is_empty() {
            ids.extend(read::scene_ids_named(conn, &serde_json::json!(self.names).to_string())?);
        }
        ids.sort_unstable();
        ids.dedup();
        let count = ids.len();
        Ok((serde_json::json!(ids).to_string(), count))
    }
}

/// A group's body: the connection, the arguments after the scene (from its first row), the
/// scenes; JSON text out.
pub type GroupBody = fn(&Connection, &[Value], &Scenes) -> Result<Option<String>>;

/// What a group holds between its rows.
#[derive(Default)]
pub struct Group {
    arguments: Option<Vec<Value>>,
    scenes: Scenes,
}

struct SceneAggregate {
    name: &'static str,
    body: GroupBody,
}

impl Aggregate<Group, Option<String>> for SceneAggregate {
    fn init(&self, _: &mut Context<'_>) -> Result<Group> {
        Ok(Group::default())
    }

    /// NULL scenes are skipped, as SQL's own aggregates skip NULL.
    fn step(&self, ctx: &mut Context<'_>, group: &mut Group) -> Result<()> {
        let arguments: Vec<Value> =
            (1..ctx.len()).map(|i| Value::try_from(ctx.get_raw(i))).collect::<std::result::Result<_, _>>()?;
        match &group.arguments {
            None => group.arguments = Some(arguments),
            Some(first) if *first != arguments => {
                let differ = first
                    .iter()
                    .zip(&arguments)
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| format!("{} then {}", describe(a.into()), describe(b.into())));
                return Err(fail(
                    self.name,
                    format!(
                        "every row of a group must ask for the same modality and band ({})",
                        differ.unwrap_or_default()
                    ),
                ));
            }
            Some(_) => {}
        }
        match arguments::scene(self.name, ctx, 0)? {
            Some(SceneRef::Id(id)) => group.scenes.ids.push(id),
            Some(SceneRef::Name(name)) => group.scenes.names.push(name),
            None => {}
        }
        Ok(())
    }

    /// An empty group (no rows) gives NULL, as SQL's own aggregates do.
    fn finalize(&self, ctx: &mut Context<'_>, group: Option<Group>) -> Result<Option<String>> {
        let Some(group) = group else { return Ok(None) };
        let conn = connection(ctx)?;
        (self.body)(&conn, group.arguments.as_deref().unwrap_or_default(), &group.scenes)
            .map_err(super::interrupt::as_reported)
    }
}

/// Registers the aggregate `name` of `arity` arguments (the scene first) on `conn`.
pub fn register(
    conn: &Connection,
    name: &'static str,
    arity: i32,
    flags: FunctionFlags,
    body: GroupBody,
) -> Result<()> {
    conn.create_aggregate_function(name, arity, flags, SceneAggregate { name, body })
}

/// One band's statistics pooled over the files of a group's scenes.
pub struct Pooled {
    /// Exact count, extremes, mean and spread of the union of their valid pixels.
    pub moments: Moments,
    /// Files that had statistics for the band.
    pub files: u64,
    /// Their merged quantile sketch, when asked for; None when a file has none.
    pub sketch: Option<QuantileSketch>,
}

impl Pooled {
    fn add(&mut self, function: &str, row: &BandStatsRow) -> Result<()> {
        self.files += 1;
        self.moments = self.moments.merge(row.moments);
        match (&mut self.sketch, row.sketch) {
            (Some(merged), Some(bytes)) => merged.merge_encoded(bytes).map_err(|e| fail(function, e))?,
            (Some(_), None) => self.sketch = None,
            (None, _) => {}
        }
        Ok(())
    }
}

/// Pools each band of `bands` (numbers or names) of `modality` over the scenes of `scene_ids` (a
/// JSON array): an error naming `function` for a band the modality's files lack or a modality the
/// catalog has no file of. A name is looked up by the number it has in the first scene's file
/// (one indexed lookup per scene, or one scan of each scene's bands for several), and by name in
/// the files that number it otherwise.
pub fn pool(
    conn: &Connection,
    function: &str,
    scene_ids: &str,
    modality: &str,
    bands: &[&str],
    with_sketch: bool,
) -> Result<Vec<Pooled>> {
    if read::meta_version(conn).ok().flatten().as_deref() == Some("1") {
        return Err(fail(
            function,
            "this catalog has no quantile sketches (schema_version 1): run sen12lite ingest on it again to add them",
        ));
    }
    let empty = || Pooled {
        moments: Moments::of(0, 0.0, 0.0, 0.0, 0.0),
        files: 0,
        sketch: with_sketch.then(QuantileSketch::new),
    };
    let mut pooled: Vec<Pooled> = bands.iter().map(|_| empty()).collect();
    let names = read::band_names_in(conn, scene_ids, modality)?;
    if names.is_empty() {
        check_modality(conn, function, modality)?;
        return Ok(pooled);
    }
    let numbers = bands.iter().map(|band| band_number(function, modality, band, &names)).collect::<Result<Vec<_>>>()?;
    let key = if let [number] = numbers[..] { BandKey::Number(number) } else { BandKey::Every };
    let mut numbered_otherwise: Vec<Vec<i64>> = bands.iter().map(|_| Vec::new()).collect();
    read::for_each_band_stats(conn, scene_ids, modality, &key, |row| {
        for (slot, band) in bands.iter().enumerate().filter(|(slot, _)| numbers[*slot] == row.band) {
            if band.parse::<i64>().is_err() && !names_band(band, row.band_name) {
                numbered_otherwise[slot].push(row.scene_id);
            } else {
                pooled[slot].add(function, &row)?;
            }
        }
        Ok(())
    })?;
    for (slot, ids) in numbered_otherwise.iter().enumerate().filter(|(_, ids)| !ids.is_empty()) {
        let ids = serde_json::json!(ids).to_string();
        read::for_each_band_stats(conn, &ids, modality, &BandKey::Name(bands[slot]), |row| {
            pooled[slot].add(function, &row)
        })?;
    }
    Ok(pooled)
}

/// The 1-based number of `band` (a number or a name) among a file's band `names`.
fn band_number(function: &str, modality: &str, band: &str, names: &[String]) -> Result<i64> {
    let shown: String = band.chars().take(40).collect();
    match band.parse::<i64>() {
        Ok(number) if (1..=names.len() as i64).contains(&number) => Ok(number),
        Ok(number) => Err(fail(function, format!("band {number} is not in {modality} (1..{})", names.len()))),
        Err(_) => names
            .iter()
            .position(|candidate| names_band(band, candidate))
            .map(|i| i as i64 + 1)
            .ok_or_else(|| fail(function, format!("band '{shown}' is not in {modality} ({})", names.join(", ")))),
    }
}

/// No scene of the group has statistics for `modality`: an error when the catalog has no file of
/// it at all (a misspelt modality), else an answer of count 0 (scenes not on disk, or ingested
/// without statistics).
fn check_modality(conn: &Connection, function: &str, modality: &str) -> Result<()> {
    let modalities = read::modality_names(conn)?;
    if modalities.iter().any(|m| m == modality) {
        return Ok(());
    }
    let shown: String = modality.chars().take(40).collect();
    let known = if modalities.is_empty() { "none".to_string() } else { modalities.join(", ") };
    Err(fail(function, format!("the catalog has no '{shown}' files (its modalities: {known})")))
}
