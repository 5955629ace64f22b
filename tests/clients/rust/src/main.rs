//! The canonical check from Rust, with a rusqlite other than the one sen12lite links (its own
//! bundled SQLite, `load_extension` feature): `check CATALOG EXTENSION QUERIES` prints the first
//! value of each statement (or `error: ...`), a line each.
use rusqlite::types::ValueRef;
use rusqlite::{Connection, LoadExtensionGuard, OpenFlags};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let conn = Connection::open_with_flags(&args[0], OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    // SAFETY: the library loaded is the sen12lite extension, whose entry point SQLite finds.
    unsafe {
        let _guard = LoadExtensionGuard::new(&conn)?;
        conn.load_extension(&args[1], None::<&str>)?;
    }
    for sql in std::fs::read_to_string(&args[2])?.lines().filter(|l| !l.trim().is_empty()) {
        let value = conn.query_row(sql, [], |row| {
            Ok(match row.get_ref(0)? {
                ValueRef::Null => "NULL".to_string(),
                ValueRef::Integer(i) => i.to_string(),
                ValueRef::Real(r) => r.to_string(),
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                ValueRef::Blob(b) => format!("{} bytes", b.len()),
            })
        });
        match value {
            Ok(value) => println!("{value}"),
            Err(e) => println!("error: {e}"),
        }
    }
    Ok(())
}
