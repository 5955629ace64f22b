//! The SQL functions through `sen12lite::register` on a linked (bundled) SQLite.

use rusqlite::Connection;

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

#[test]
fn register_adds_every_name_it_lists_and_table_functions_answer() {
    let conn = connection();
    let registered: Vec<String> = conn
        .prepare("SELECT name FROM pragma_function_list UNION SELECT name FROM pragma_module_list")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for name in sen12lite::sql::NAMES {
        assert!(registered.iter().any(|r| r == name), "{name} is not registered");
    }
    let ndvi: String = conn.query_row("SELECT formula FROM s12_indices WHERE name = 'ndvi'", [], |r| r.get(0)).unwrap();
    assert_eq!(ndvi, "(B8 - B4) / (B8 + B4)");
}
