// The oracle of tests/python/test_basemap.py: topojson-client (the decoder the Datasette map uses in
// the browser) decodes the wheel's countries-50m.json into the land and the borders between countries.
const fs = require("fs");
const topojson = require(process.argv[2]);
const topology = JSON.parse(fs.readFileSync(process.argv[3]));
const land = topojson.feature(topology, topology.objects.land).features.map((f) => f.geometry);
const borders = topojson.mesh(topology, topology.objects.countries, (a, b) => a !== b);
console.log(JSON.stringify({land, borders: borders.coordinates}));
