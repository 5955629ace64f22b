//! Query results as text, the way `sqlite3 -header -column` prints them: for the demo and the
//! `sql` verb.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Statement};

/// Runs one query and formats it like `sqlite3 -header -column` would: a header, then rows.
pub fn format_query(conn: &Connection, sql: &str) -> rusqlite::Result<String> {
    format_statement(&mut conn.prepare(sql)?)
}

/// Runs a prepared statement and formats its rows.
pub fn format_statement(statement: &mut Statement) -> rusqlite::Result<String> {
    let names: Vec<String> = statement.column_names().iter().map(std::string::ToString::to_string).collect();
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
        ValueRef::Real(r) => real(r),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => format!("<{} bytes>", b.len()),
    }
}

/// A REAL as the sqlite3 shell prints it: rounded to 15 significant digits (`6968.02`, not the
/// `6968.019999999997` that round-trips), `.0` on integral values, an exponent (`1.0e+20`) from
/// 1e15 up and below 1e-5.
fn real(r: f64) -> String {
    const DIGITS: i32 = 15;
    if r == 0.0 || !r.is_finite() {
        return if r == 0.0 { "0.0".to_string() } else { r.to_string() };
    }
    let exponent = r.abs().log10().floor() as i32;
    if !(-5..DIGITS).contains(&exponent) {
        let text = format!("{:.*e}", (DIGITS - 1) as usize, r);
        let (mantissa, power) = text.split_once('e').unwrap_or((&text, "0"));
        let power: i32 = power.parse().unwrap_or(0);
        return format!(
            "{}e{}{:02}",
            with_point(mantissa.trim_end_matches('0')),
            if power < 0 { '-' } else { '+' },
            power.abs()
        );
    }
    with_point(format!("{:.*}", (DIGITS - 1 - exponent).max(0) as usize, r).trim_end_matches('0'))
}

/// `1.` -> `1.0`: a REAL keeps a digit after its point.
fn with_point(digits: &str) -> String {
    if digits.ends_with('.') {
        format!("{digits}0")
    } else {
        digits.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::real;

    #[test]
    fn reals_print_as_the_sqlite3_shell_prints_them() {
        // Each text is what `sqlite3 -column :memory: "SELECT <value>"` printed (SQLite 3.40.1).
        for (value, text) in [
            (6968.019999999997, "6968.02"),
            (5555.0199999999895, "5555.01999999999"),
            (0.52335, "0.52335"),
            (1.0, "1.0"),
            (-47.69, "-47.69"),
            (0.1 + 0.2, "0.3"),
            (0.0, "0.0"),
            (123456789.125, "123456789.125"),
            (1e20, "1.0e+20"),
            (0.0000012345, "1.2345e-06"),
        ] {
            assert_eq!(real(value), text, "{value}");
        }
    }
}
