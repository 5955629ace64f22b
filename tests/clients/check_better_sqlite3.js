// The canonical check from Node with better-sqlite3 (its own SQLite): `node check_better_sqlite3.js
// CATALOG EXTENSION QUERIES` prints the first value of each statement (or `error: ...`), a line each.
const fs = require("fs");
const Database = require("better-sqlite3");
const [catalog, extension, queries] = process.argv.slice(2);
const db = new Database(catalog, { readonly: true });
db.loadExtension(extension);
for (const sql of fs.readFileSync(queries, "utf8").split("\n")) {
  if (!sql.trim()) continue;
  try {
    const value = db.prepare(sql).raw().get()[0];
    console.log(value === null ? "NULL" : String(value));
  } catch (e) {
    console.log(`error: ${e.message}`);
  }
}
