//! One eponymous virtual table for every `s12_` table function: the function's arguments are
//! hidden columns (`SELECT * FROM s12_patches(42, 256, 249)`); its rows are computed in `xFilter`,
//! or a chunk at a time as the cursor reaches them (`fill`), so that the first row comes after
//! reading what it needs and memory does not grow with the table. rusqlite does not catch panics in virtual-table callbacks, so every call into a
//! table function's code runs under `catch_unwind`: a bug becomes an SQL error, not an abort of
//! the host process.

use super::arguments::fail;
use super::registry::Access;
use super::session::Session;
use rusqlite::types::{Value, ValueRef};
use rusqlite::vtab::{
    Context, Filters, IndexConstraintOp, IndexInfo, Module, VTab, VTabConfig, VTabConnection, VTabCursor,
};
use rusqlite::{ffi, Connection, Result};
use std::borrow::Cow;
use std::ffi::{c_int, CStr, CString};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A table function: named hidden arguments, visible columns, rows computed from the arguments.
pub trait TableFunction: Sized + 'static {
    const NAME: &'static str;
    /// Visible columns, in order.
    const COLUMNS: &'static [&'static str];
    /// Hidden argument columns, in call order.
    const ARGUMENTS: &'static [&'static str];
    /// How many leading arguments the call must give; the others are NULL when left out.
    const REQUIRED: usize;

    /// The rows for `arguments` (one value per entry of ARGUMENTS, NULL when not given), read
    /// through the connection's `session`. None: an argument is NULL, the table is empty.
    fn rows(conn: &Connection, session: &Session, arguments: &[Value]) -> Result<Option<Self>>;
    fn len(&self) -> usize;
    /// A value of a row that `ready` says is computed.
    fn value(&self, row: usize, column: usize) -> Value;

    /// Whether `row` can be read by `value` now; the default: `rows` computed every row.
    fn ready(&self, _row: usize) -> bool {
        true
    }

    /// Computes the chunk of rows that holds `row` (rows are asked in order, from 0), for a table
    /// that streams: it reads only what that chunk needs, and may forget the chunks before it.
    fn fill(&mut self, _conn: &Connection, _session: &Session, _row: usize) -> Result<()> {
        Ok(())
    }
}

/// What every table of a connection gets: the session, and what the function may touch.
pub struct TableAux {
    session: Arc<Session>,
    access: Access,
}

/// Adds `T` to `conn`; SQLite drops its share of `session` when the connection closes. A table
/// that reads files is DIRECTONLY (only the user's own SQL may use it), the others INNOCUOUS.
pub fn register<T: TableFunction>(conn: &Connection, session: &Arc<Session>, access: Access) -> Result<()> {
    conn.create_module(T::NAME, &Table::<T>::MODULE, Some(TableAux { session: Arc::clone(session), access }))
}

/// Runs table-function code, turning a panic into an SQL error that names the function.
fn guarded<T: TableFunction, R>(f: impl FnOnce() -> Result<R>) -> Result<R> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(fail(T::NAME, "internal error (a bug: please report it)")))
}

#[repr(C)]
pub struct Table<T: TableFunction> {
    base: ffi::sqlite3_vtab,
    db: *mut ffi::sqlite3,
    session: Arc<Session>,
    kind: PhantomData<T>,
}

impl<T: TableFunction> Table<T> {
    const MODULE: Module<'static, Table<T>> = Module::eponymous_only_module();
}

// SAFETY: `Table` is `#[repr(C)]` with the `sqlite3_vtab` base first, as rusqlite's VTab requires.
unsafe impl<'vtab, T: TableFunction> VTab<'vtab> for Table<T> {
    type Aux = TableAux;
    type Cursor = Cursor<'vtab, T>;

    fn connect(
        db: &mut VTabConnection,
        aux: Option<&TableAux>,
        _: &[u8],
        _: &[u8],
        _: &[u8],
        _: &[&[u8]],
    ) -> Result<(Cow<'static, CStr>, Self)> {
        let aux = aux.ok_or_else(|| fail(T::NAME, "internal error: registered without a session"))?;
        let session = Arc::clone(&aux.session);
        db.config(if aux.access == Access::ReadsFiles { VTabConfig::DirectOnly } else { VTabConfig::Innocuous })?;
        let hidden = T::ARGUMENTS.iter().map(|a| format!("{a} HIDDEN"));
        let columns: Vec<String> = T::COLUMNS.iter().map(std::string::ToString::to_string).chain(hidden).collect();
        let schema = CString::new(format!("CREATE TABLE x({})", columns.join(", "))).expect("column names have no NUL");
        // SAFETY: the handle is the connection this table lives in; it outlives the table.
        let db = unsafe { db.handle() };
        Ok((Cow::Owned(schema), Table { base: ffi::sqlite3_vtab::default(), db, session, kind: PhantomData }))
    }

    /// Each argument given by `=` is passed to xFilter; idx_num is the bit set of given arguments.
    fn best_index(&self, info: &mut IndexInfo) -> Result<bool> {
        let first_argument = T::COLUMNS.len() as c_int;
        let mut slots: Vec<Option<usize>> = vec![None; T::ARGUMENTS.len()];
        let mut unusable = 0u32;
        for (i, constraint) in info.constraints().enumerate() {
            let Some(argument) = constraint.column().checked_sub(first_argument).map(|a| a as usize) else { continue };
            if argument >= slots.len() || constraint.operator() != IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_EQ {
                continue;
            }
            if constraint.is_usable() {
                slots[argument] = Some(i);
            } else {
                unusable |= 1 << argument;
            }
        }
        let mut given = 0u32;
        for (argv, (argument, constraint)) in
            slots.iter().enumerate().filter_map(|(a, c)| c.map(|c| (a, c))).enumerate()
        {
            given |= 1 << argument;
            let mut usage = info.constraint_usage(constraint);
            usage.set_argv_index(argv as c_int + 1);
            usage.set_omit(true);
        }
        // An argument SQLite could give in another join order: make it choose that order.
        if unusable & !given != 0 {
            return Ok(false);
        }
        let required = (1u32 << T::REQUIRED) - 1;
        info.set_estimated_cost(if given & required == required { 10.0 } else { 1e12 });
        info.set_idx_num(given as c_int);
        Ok(true)
    }

    fn open(&'vtab mut self) -> Result<Cursor<'vtab, T>> {
        Ok(Cursor {
            base: ffi::sqlite3_vtab_cursor::default(),
            db: self.db,
            session: Arc::clone(&self.session),
            arguments: Vec::new(),
            rows: None,
            row: 0,
            table: PhantomData,
        })
    }
}

#[repr(C)]
pub struct Cursor<'vtab, T: TableFunction> {
    base: ffi::sqlite3_vtab_cursor,
    db: *mut ffi::sqlite3,
    session: Arc<Session>,
    arguments: Vec<Value>,
    rows: Option<T>,
    row: usize,
    table: PhantomData<&'vtab Table<T>>,
}

impl<T: TableFunction> Cursor<'_, T> {
    /// Has the table compute the cursor's row, when it streams and has not yet.
    fn make_ready(&mut self) -> Result<()> {
        let row = self.row;
        let Some(rows) = self.rows.as_mut().filter(|rows| row < rows.len() && !rows.ready(row)) else { return Ok(()) };
        // SAFETY: a non-owning handle of the connection running this query, used inside this call.
        let conn = unsafe { Connection::from_handle(self.db)? };
        let session = &self.session;
        guarded::<T, _>(|| rows.fill(&conn, session, row))
    }

    fn arguments(idx_num: c_int, filters: &Filters) -> Result<Vec<Value>> {
        let mut given = filters.iter().map(owned);
        let arguments: Vec<Value> = (0..T::ARGUMENTS.len())
            .map(|a| if idx_num & (1 << a) != 0 { given.next().unwrap_or(Value::Null) } else { Value::Null })
            .collect();
        if let Some(missing) = (0..T::REQUIRED).find(|&a| idx_num & (1 << a) == 0) {
            let (required, optional) = T::ARGUMENTS.split_at(T::REQUIRED);
            let optional = if optional.is_empty() { String::new() } else { format!(" [, {}]", optional.join(", ")) };
            let call = format!("{}({}{optional})", T::NAME, required.join(", "));
            return Err(fail(T::NAME, format!("argument '{}' is missing: call it as {call}", T::ARGUMENTS[missing])));
        }
        Ok(arguments)
    }
}

// SAFETY: `Cursor` is `#[repr(C)]` with the `sqlite3_vtab_cursor` base first, as rusqlite requires.
unsafe impl<T: TableFunction> VTabCursor for Cursor<'_, T> {
    fn filter(&mut self, idx_num: c_int, _: Option<&str>, filters: &Filters<'_>) -> Result<()> {
        self.row = 0;
        self.rows = None;
        self.arguments = Self::arguments(idx_num, filters)?;
        // SAFETY: a non-owning handle of the connection running this query, used inside this call.
        let conn = unsafe { Connection::from_handle(self.db)? };
        self.rows = guarded::<T, _>(|| T::rows(&conn, &self.session, &self.arguments))?;
        self.make_ready()
    }

    fn next(&mut self) -> Result<()> {
        self.row += 1;
        self.make_ready()
    }

    fn eof(&self) -> bool {
        self.rows.as_ref().is_none_or(|rows| self.row >= rows.len())
    }

    fn column(&self, ctx: &mut Context, i: c_int) -> Result<()> {
        let i = i as usize;
        let value = match (i.checked_sub(T::COLUMNS.len()), &self.rows) {
            (Some(argument), _) => self.arguments.get(argument).cloned().unwrap_or(Value::Null),
            (None, Some(rows)) => guarded::<T, _>(|| Ok(rows.value(self.row, i)))?,
            (None, None) => Value::Null,
        };
        ctx.set_result(&value)
    }

    fn rowid(&self) -> Result<i64> {
        Ok(self.row as i64 + 1)
    }
}

/// An owned copy of an argument; text that is not UTF-8 is kept with replacement characters.
fn owned(value: ValueRef) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Panics on a negative argument; otherwise lists 0..n.
    struct Fragile(i64);

    impl TableFunction for Fragile {
        const NAME: &'static str = "fragile";
        const COLUMNS: &'static [&'static str] = &["value"];
        const ARGUMENTS: &'static [&'static str] = &["n"];
        const REQUIRED: usize = 1;

        fn rows(_: &Connection, _: &Session, arguments: &[Value]) -> Result<Option<Self>> {
            match arguments[0] {
                Value::Integer(n) if n < 0 => panic!("negative"),
                Value::Integer(n) => Ok(Some(Fragile(n))),
                _ => Ok(None),
            }
        }
        fn len(&self) -> usize {
            self.0 as usize
        }
        fn value(&self, row: usize, _: usize) -> Value {
            assert!(!(self.0 == 7 && row == 3), "row 3");
            Value::Integer(row as i64)
        }
    }

    /// Lists 0..n computed 4 rows at a time, counting its fills; panics filling row 8 of 0..9.
    struct Chunked {
        n: usize,
        chunk: Option<usize>,
    }

    static FILLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    impl TableFunction for Chunked {
        const NAME: &'static str = "chunked";
        const COLUMNS: &'static [&'static str] = &["value"];
        const ARGUMENTS: &'static [&'static str] = &["n"];
        const REQUIRED: usize = 1;

        fn rows(_: &Connection, _: &Session, arguments: &[Value]) -> Result<Option<Self>> {
            let Value::Integer(n) = arguments[0] else { return Ok(None) };
            Ok(Some(Chunked { n: n as usize, chunk: None }))
        }
        fn len(&self) -> usize {
            self.n
        }
        fn ready(&self, row: usize) -> bool {
            self.chunk == Some(row / 4)
        }
        fn fill(&mut self, _: &Connection, _: &Session, row: usize) -> Result<()> {
            assert!(!(self.n == 9 && row == 8), "row 8");
            FILLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.chunk = Some(row / 4);
            Ok(())
        }
        fn value(&self, row: usize, _: usize) -> Value {
            assert_eq!(self.chunk, Some(row / 4), "a row read before its chunk was filled");
            Value::Integer(row as i64)
        }
    }

    #[test]
    fn a_streaming_table_fills_each_chunk_once_when_its_first_row_comes() {
        let conn = Connection::open_in_memory().unwrap();
        register::<Chunked>(&conn, &Session::from_env().unwrap(), Access::Pure).unwrap();
        assert_eq!(values(&conn, "SELECT value FROM chunked(10)").unwrap(), (0..10).collect::<Vec<_>>());
        assert_eq!(FILLS.swap(0, std::sync::atomic::Ordering::SeqCst), 3);
        assert_eq!(values(&conn, "SELECT value FROM chunked(10) LIMIT 2").unwrap(), vec![0, 1]);
        assert_eq!(FILLS.swap(0, std::sync::atomic::Ordering::SeqCst), 1);
        let message = values(&conn, "SELECT value FROM chunked(9)").unwrap_err().to_string();
        assert!(message.contains("chunked: internal error"), "{message}");
        assert_eq!(values(&conn, "SELECT count(*) FROM chunked(0)").unwrap(), vec![0]);
    }

    fn values(conn: &Connection, sql: &str) -> Result<Vec<i64>> {
        let mut statement = conn.prepare(sql)?;
        let rows = statement.query_map([], |r| r.get(0))?;
        rows.collect()
    }

    #[test]
    fn a_panic_in_a_table_function_is_an_sql_error_and_the_connection_lives_on() {
        let conn = Connection::open_in_memory().unwrap();
        register::<Fragile>(&conn, &Session::from_env().unwrap(), Access::Pure).unwrap();
        assert_eq!(values(&conn, "SELECT value FROM fragile(3)").unwrap(), vec![0, 1, 2]);
        for sql in ["SELECT value FROM fragile(-1)", "SELECT value FROM fragile(7)"] {
            let message = values(&conn, sql).unwrap_err().to_string();
            assert!(message.contains("fragile: internal error"), "{sql}: {message}");
        }
        assert_eq!(values(&conn, "SELECT value FROM fragile(NULL)").unwrap(), Vec::<i64>::new());
        let missing = values(&conn, "SELECT value FROM fragile").unwrap_err().to_string();
        assert!(missing.contains("fragile: argument 'n' is missing"), "{missing}");
        // The argument from another table: SQLite must pick the join order that can give it.
        let joined = values(&conn, "SELECT f.value FROM (SELECT 2 AS n UNION ALL SELECT 1) t, fragile(t.n) f").unwrap();
        assert_eq!(joined, vec![0, 1, 0]);
    }
}
