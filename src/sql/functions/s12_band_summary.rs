//! `s12_band_summary(scene, modality, band [, quantiles])`, an aggregate: the statistics of the
//! union of the valid pixels of one band over the group's scenes, from the catalog alone
//! (band_stats' moments, pooled exactly, and its quantile sketches, merged).

use crate::raster::stats::PERCENTILES;
use crate::sql::runtime::aggregate::{pool, Scenes};
use crate::sql::runtime::arguments;
use crate::sql::runtime::arguments::{band_spec, describe, fail, Args};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Result};
use serde_json::{json, Map};

const F: &str = "s12_band_summary";

/// More quantiles than anyone plots in one call: a bound on the answer's size.
const MAX_QUANTILES: usize = 101;

/// JSON {count, min, max, mean, stddev, p02, p50, p98 (or the quantiles asked), files, missing}.
pub(crate) fn band_summary(conn: &Connection, args: &[Value], scenes: &Scenes) -> Result<Option<String>> {
    let (Some(modality), Some(band)) = (arguments::text(F, args, 0, "modality")?, band_spec(F, args, 1)?) else {
        return Ok(None);
    };
    let Some(quantiles) = quantiles(args)? else { return Ok(None) };
    let (scene_ids, scene_count) = scenes.ids_json(conn)?;
    let pooled = pool(conn, F, &scene_ids, &modality, &[&band], true)?.remove(0);
    let m = &pooled.moments;
    let some = |v: f64| (m.count > 0).then_some(v);
    let mut out = Map::new();
    out.insert("count".into(), json!(m.count));
    out.insert("min".into(), json!(some(m.min)));
    out.insert("max".into(), json!(some(m.max)));
    out.insert("mean".into(), json!(some(m.mean)));
    out.insert("stddev".into(), json!(m.stddev()));
    for q in quantiles {
        out.insert(quantile_key(q), json!(pooled.sketch.as_ref().and_then(|s| s.quantile(q))));
    }
    out.insert("files".into(), json!(pooled.files));
    out.insert("missing".into(), json!(scene_count as u64 - pooled.files.min(scene_count as u64)));
    Ok(Some(serde_json::Value::Object(out).to_string()))
}

/// The fractions asked for by the optional fourth argument (one number or a JSON array of them,
/// each in [0, 1]); the catalog's 0.02, 0.5, 0.98 without it. None when it is NULL.
fn quantiles(args: &[Value]) -> Result<Option<Vec<f64>>> {
    let bad =
        |what: String| fail(F, format!("quantiles must be fractions in [0, 1] (one or a JSON array), got {what}"));
    let listed: Vec<serde_json::Value> = match args.raw(2) {
        _ if args.count() < 3 => return Ok(Some(PERCENTILES.to_vec())),
        ValueRef::Null => return Ok(None),
        ValueRef::Integer(i) => vec![json!(i)],
        ValueRef::Real(r) => vec![json!(r)],
        ValueRef::Text(text) => match serde_json::from_slice(text) {
            Ok(serde_json::Value::Array(items)) => items,
            Ok(single @ serde_json::Value::Number(_)) => vec![single],
            _ => return Err(bad(describe(args.raw(2)))),
        },
        other @ ValueRef::Blob(_) => return Err(bad(describe(other))),
    };
    if listed.is_empty() || listed.len() > MAX_QUANTILES {
        return Err(bad(format!("{} of them (1 to {MAX_QUANTILES})", listed.len())));
    }
    let fraction =
        |v: &serde_json::Value| v.as_f64().filter(|q| (0.0..=1.0).contains(q)).ok_or_else(|| bad(v.to_string()));
    listed.iter().map(fraction).collect::<Result<Vec<f64>>>().map(Some)
}

/// `p02`, `p50`, `p98`, `p100` for whole percents; `p99.9`, `p2.5` otherwise.
fn quantile_key(q: f64) -> String {
    let percent = q * 100.0;
    if (percent - percent.round()).abs() < 1e-9 {
        format!("p{:02}", percent.round() as i64)
    } else {
        format!("p{}", (percent * 1e6).round() / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_keys_read_as_percents() {
        let keys: Vec<String> = [0.02, 0.5, 0.98, 1.0, 0.999, 0.025, 0.0].map(quantile_key).to_vec();
        assert_eq!(keys, ["p02", "p50", "p98", "p100", "p99.9", "p2.5", "p00"]);
    }
}
