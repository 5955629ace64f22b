// The canonical check from Node's own `node:sqlite` (Node >= 22.13, where `loadExtension` came):
// `node check_node_sqlite.mjs CATALOG EXTENSION QUERIES` prints the first value of each statement
// (or `error: ...`), a line each.
import { readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
const [catalog, extension, queries] = process.argv.slice(2);
const db = new DatabaseSync(catalog, { readOnly: true, allowExtension: true });
db.loadExtension(extension);
for (const sql of readFileSync(queries, "utf8").split("\n")) {
  if (!sql.trim()) continue;
  try {
    const value = Object.values(db.prepare(sql).get())[0];
    console.log(value === null ? "NULL" : String(value));
  } catch (e) {
    console.log(`error: ${e.message}`);
  }
}
