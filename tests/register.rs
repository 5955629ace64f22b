//! The SQL functions through `sen12lite::register` on a linked (bundled) SQLite.

use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;
use sen12lite::sql::FUNCTIONS;

fn connection() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    sen12lite::register(&conn).unwrap();
    conn
}

#[test]
fn pure_functions_answer_and_follow_the_season_rule() {
    let conn = connection();
    let version: String = conn.query_row("SELECT s12_version()", [], |r| r.get(0)).unwrap();
    assert_eq!(version, format!("v{}", env!("CARGO_PKG_VERSION")));
    let seasons: (String, String) = conn
        .query_row("SELECT s12_season('2020-07-01T00:00:00Z', -20), s12_season('2020-07-01', 20)", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(seasons, ("winter".into(), "summer".into()));
}

#[test]
fn file_functions_on_a_database_without_a_catalog_fail_with_their_name() {
    let conn = connection();
    conn.execute_batch(sen12lite::catalog::SCHEMA).unwrap();
    let error =
        conn.query_row("SELECT s12_pixel(1, 's2', 'B4', 0, 0)", [], |r| r.get::<_, Option<i64>>(0)).unwrap_err();
    assert!(error.to_string().contains("s12_pixel: no scene 1 in the catalog"), "{error}");
    let null: Option<Vec<u8>> =
        conn.query_row("SELECT s12_window(NULL, 's2', 'B4', 0, 0, 1, 1)", [], |r| r.get(0)).unwrap();
    assert_eq!(null, None);
}

/// The flags `pragma_function_list` shows: the ones that say who may call a function.
fn visible_flags(flags: FunctionFlags) -> i64 {
    let shown =
        FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_DIRECTONLY | FunctionFlags::SQLITE_INNOCUOUS;
    i64::from((flags & shown).bits())
}

fn rows<T: rusqlite::types::FromSql>(conn: &Connection, sql: &str) -> Vec<T> {
    conn.prepare(sql).unwrap().query_map([], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
}

#[test]
fn the_connection_has_exactly_the_functions_and_tables_of_the_table() {
    let conn = connection();
    let mut loaded: Vec<(String, i64, i64)> = conn
        .prepare("SELECT name, narg, flags FROM pragma_function_list WHERE name LIKE 's12\\_%' ESCAPE '\\'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut expected: Vec<(String, i64, i64)> = FUNCTIONS
        .iter()
        .flat_map(|f| {
            f.shapes.iter().filter_map(|shape| {
                Some((f.name.to_string(), i64::from(shape.arity()?), visible_flags(f.access.flags())))
            })
        })
        .collect();
    loaded.sort();
    expected.sort();
    assert_eq!(loaded, expected);
    let mut modules: Vec<String> =
        rows(&conn, "SELECT name FROM pragma_module_list WHERE name LIKE 's12\\_%' ESCAPE '\\'");
    let mut tables: Vec<String> =
        FUNCTIONS.iter().filter(|f| f.shapes.iter().any(|s| s.arity().is_none())).map(|f| f.name.to_string()).collect();
    modules.sort();
    tables.sort();
    assert_eq!(modules, tables);
    let ndvi: String = conn.query_row("SELECT formula FROM s12_indices WHERE name = 'ndvi'", [], |r| r.get(0)).unwrap();
    assert_eq!(ndvi, "(B8 - B4) / (B8 + B4)");
}

/// `docs/sql.md` holds, between its two marker lines, the index and entries that `FUNCTIONS` and
/// `src/sql/functions/*.md` give; `S12_WRITE_DOCS=1` (`make docs`) writes them there instead.
#[test]
fn docs_sql_md_holds_the_entries_of_the_table() {
    use sen12lite::sql::reference::{reference, BEGIN, END};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/sql.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = doc.split_once(BEGIN).expect("docs/sql.md has the line before the written entries");
    let (_, tail) = rest.split_once(END).expect("docs/sql.md has the line after the written entries");
    let written = format!("{head}{BEGIN}\n\n{}\n{END}{tail}", reference(FUNCTIONS));
    if std::env::var_os("S12_WRITE_DOCS").is_some() {
        std::fs::write(&path, written).unwrap();
    } else {
        assert!(doc == written, "docs/sql.md differs from src/sql/functions/*.md: run `make docs`");
    }
}
