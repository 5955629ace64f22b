//! Seasons, hemispheres and times: the rules the catalog applies to both datasets.

use chrono::{DateTime, Datelike, NaiveDate};

/// The season names the catalog uses, in calendar order from March.
pub const SEASONS: [&str; 4] = ["spring", "summer", "autumn", "winter"];

/// 'N' for latitudes >= 0, else 'S'.
pub fn hemisphere(lat: f64) -> char {
    if lat >= 0.0 {
        'N'
    } else {
        'S'
    }
}

/// Meteorological season of a month (1..=12) in the northern hemisphere.
pub fn northern_season(month: u32) -> Option<&'static str> {
    match month {
        3..=5 => Some("spring"),
        6..=8 => Some("summer"),
        9..=11 => Some("autumn"),
        12 | 1 | 2 => Some("winter"),
        _ => None,
    }
}

/// The same calendar window seen from the other hemisphere: winter <-> summer, spring <-> autumn.
pub fn opposite_season(season: &str) -> Option<&'static str> {
    match season {
        "spring" => Some("autumn"),
        "summer" => Some("winter"),
        "autumn" | "fall" => Some("spring"),
        "winter" => Some("summer"),
        _ => None,
    }
}

/// Season of a northern-hemisphere season name at the given hemisphere ('fall' is spelled 'autumn').
pub fn season_at(northern: &str, hemisphere: char) -> Option<&'static str> {
    if hemisphere == 'S' {
        return opposite_season(northern);
    }
    SEASONS.iter().copied().find(|s| *s == northern).or((northern == "fall").then_some("autumn"))
}

/// Meteorological season of a UTC month at a latitude.
pub fn season_of_month(month: u32, lat: f64) -> Option<&'static str> {
    season_at(northern_season(month)?, hemisphere(lat))
}

/// `2019-12-27T23:27:55.000Z` for a Unix time in milliseconds.
pub fn iso_millis(ms: i64) -> Option<String> {
    let t = DateTime::from_timestamp_millis(ms)?;
    Some(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// UTC month (1..=12) of a Unix time in milliseconds.
pub fn utc_month(ms: i64) -> Option<u32> {
    DateTime::from_timestamp_millis(ms).map(|t| t.month())
}

/// Days since 1970-01-01 as a float: the R*Tree's time axis (float32 resolves it to minutes).
pub fn epoch_days_of_millis(ms: i64) -> f64 {
    ms as f64 / 86_400_000.0
}

/// Days since 1970-01-01 of a calendar date.
pub fn epoch_days_of_date(year: i32, month: u32, day: u32) -> Option<f64> {
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    Some((date - epoch).num_days() as f64)
}

/// Parses an ISO-8601 time (`2019-12-27T23:27:55.000Z`, any offset) or a plain date into Unix ms.
pub fn parse_time_millis(text: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn december_is_winter_in_the_north_and_summer_in_the_south() {
        assert_eq!(season_of_month(12, 46.5), Some("winter"));
        assert_eq!(season_of_month(12, -34.5), Some("summer"));
        assert_eq!(season_of_month(4, -1.0), Some("autumn"));
        assert_eq!(season_of_month(10, 0.0), Some("autumn"));
        assert_eq!(season_of_month(13, 0.0), None);
    }

    #[test]
    fn folder_seasons_flip_south_and_fall_reads_autumn() {
        assert_eq!(season_at("fall", 'N'), Some("autumn"));
        assert_eq!(season_at("fall", 'S'), Some("spring"));
        assert_eq!(season_at("winter", 'S'), Some("summer"));
        assert_eq!(season_at("monsoon", 'N'), None);
    }

    #[test]
    fn times_print_with_milliseconds_in_utc() {
        // 1577457752727 ms: hand-checked with `date -u -d @1577457752.727`.
        assert_eq!(iso_millis(1577457752727).unwrap(), "2019-12-27T14:42:32.727Z");
        assert_eq!(iso_millis(1577489275000).unwrap(), "2019-12-27T23:27:55.000Z");
        assert_eq!(utc_month(1577457752727), Some(12));
        assert_eq!(parse_time_millis("2019-12-27T23:27:55.000Z"), Some(1577489275000));
        assert_eq!(parse_time_millis("1970-01-02"), Some(86_400_000));
    }

    #[test]
    fn epoch_days_count_from_1970() {
        assert_eq!(epoch_days_of_date(1970, 1, 1), Some(0.0));
        assert_eq!(epoch_days_of_date(2017, 3, 1), Some(17226.0));
        assert_eq!(epoch_days_of_millis(86_400_000 * 3 / 2), 1.5);
    }
}
