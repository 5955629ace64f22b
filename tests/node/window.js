// A Node client of the extension (tests/python/test_node.py): better-sqlite3 loads it, reads an
// s12_window .npy blob and parses it by hand (magic, header dict, little-endian values), and
// prints {dtype, shape, values} as JSON.
//   node window.js CATALOG EXTENSION SCENE
const Database = require("better-sqlite3");

const TYPES = { "<u2": Uint16Array, "<i2": Int16Array, "<f4": Float32Array, "<f8": Float64Array, "|u1": Uint8Array };

function parseNpy(blob) {
  if (blob.subarray(0, 6).toString("latin1") !== "\x93NUMPY") throw new Error("not an .npy blob");
  const headerLength = blob.readUInt16LE(8);
  const header = blob.subarray(10, 10 + headerLength).toString("latin1");
  const dtype = /'descr': '([^']+)'/.exec(header)[1];
  const shape = /'shape': \(([^)]*)\)/.exec(header)[1].split(",").filter(s => s.trim()).map(Number);
  const data = blob.subarray(10 + headerLength);
  // Copy into an aligned buffer: the blob's offset need not be a multiple of the value size.
  const values = new TYPES[dtype](new Uint8Array(data).buffer);
  return { dtype, shape, values: Array.from(values) };
}

const [catalog, extension, scene] = process.argv.slice(2);
const db = new Database(catalog, { readonly: true });
db.loadExtension(extension);
const { w } = db.prepare("SELECT s12_window(?, 's2', 'B4,B8', 5, 7, 32, 16) AS w").get(Number(scene));
console.log(JSON.stringify(parseNpy(w)));
