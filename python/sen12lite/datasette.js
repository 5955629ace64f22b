// sen12lite's Datasette pages: .npy download links, a map of the footprints on the page, a scene's
// quicklooks and patch grid on its row page, thumbnails beside scene ids.
(function () {
  // The database of the page, from the classes Datasette gives its body (`db-catalog`), and the
  // plugin's routes under it.
  const database = (document.body.className.match(/\bdb-(\S+)/) || [])[1];
  const routes = `/-/s12/${database}`;

  // Datasette's own blob link (the page's URL in format "blob" with _blob_column and _blob_hash),
  // in format "npy": the plugin's renderer serves the same bytes named .npy.
  function npyLinks() {
    for (const link of document.querySelectorAll("a.s12-npy-download")) {
      const url = new URL(window.location);
      const last = url.pathname.split("/").pop();
      if (last.includes(".")) url.searchParams.set("_format", "npy");
      else url.pathname += ".npy";
      url.searchParams.set("_blob_column", link.dataset.column);
      url.searchParams.set("_blob_hash", link.dataset.hash);
      link.href = url.pathname + url.search;
    }
  }

  // The footprints of the whole result — every page of it, up to MAX_FOOTPRINTS — on a map that
  // pans and zooms over Natural Earth's land and borders, shipped in the wheel (no tile server: no
  // request leaves the instance), coloured by a column the visitor picks; a footprint links to its
  // scene's row page.
  const MAX_FOOTPRINTS = 50000;
  const CATEGORIES = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  // The rows of this page's table or query as JSON objects, following Datasette's next pages.
  async function allRows() {
    const url = new URL(window.location);
    if (!/\.[a-z]+$/.test(url.pathname)) url.pathname += ".json";
    url.searchParams.set("_shape", "objects");
    url.searchParams.set("_size", "max");
    url.searchParams.delete("_next");
    const rows = [];
    for (let next = url.toString(); next && rows.length < MAX_FOOTPRINTS;) {
      const page = await (await fetch(next)).json();
      rows.push(...(page.rows || []));
      next = page.next_url;
    }
    return rows;
  }

  // A colour for each row's value of `column`: a ramp over the range of numbers, else one of ten
  // colours per value (the legend lists them).
  function colouring(rows, column) {
    const values = rows.map(r => r[column]);
    const numbers = values.filter(v => typeof v === "number");
    if (numbers.length && numbers.length === values.filter(v => v !== null).length) {
      const lo = Math.min(...numbers), hi = Math.max(...numbers);
      const ramp = v => v === null ? "#999" : `hsl(${120 * (hi > lo ? (v - lo) / (hi - lo) : 0.5)}, 70%, 40%)`;
      return { colour: r => ramp(r[column]), legend: [[`${lo} (red) .. ${hi} (green)`, "#555"]] };
    }
    const kinds = [...new Set(values.map(String))].slice(0, CATEGORIES.length);
    const colour = v => CATEGORIES[kinds.indexOf(String(v))] || "#999";
    return { colour: r => colour(r[column]), legend: kinds.map(k => [k, colour(k)]) };
  }

  // A ring that crosses the antimeridian (Afro-Eurasia's, at Chukotka, in Natural Earth's land) has a
  // side from 180 to -180 that a flat map draws across the whole world: its far side goes on past 180.
  function unwrapped(collection) {
    const crosses = ring => ring.some((p, i) => i > 0 && Math.abs(p[0] - ring[i - 1][0]) > 180);
    // Only the far side moves: Afro-Eurasia's ring reaches past 180 at Chukotka and west of 0 in Europe.
    const unwrap = ring => crosses(ring) ? ring.map(([x, y]) => [x < -90 ? x + 360 : x, y]) : ring;
    for (const feature of collection.features) {
      const g = feature.geometry;
      g.coordinates = g.type === "Polygon" ? g.coordinates.map(unwrap) : g.coordinates.map(p => p.map(unwrap));
    }
    return collection;
  }

  async function footprintMap() {
    const wrapper = document.querySelector(".table-wrapper");
    if (!window.L || !window.topojson || !wrapper || !document.querySelector("table.rows-and-columns th.col-footprint")
        || document.body.classList.contains("row")) return;
    const box = document.createElement("div");
    box.id = "s12-map";
    box.style = "height: 420px; margin: 1em 0; background: #cfe2ef; border: 1px solid #bbb";
    const controls = document.createElement("div");
    controls.id = "s12-map-controls";
    wrapper.parentNode.insertBefore(box, wrapper);
    wrapper.parentNode.insertBefore(controls, wrapper);
    const map = L.map(box, { preferCanvas: true, worldCopyJump: true, minZoom: 1 }).setView([20, 0], 1);
    const world = await (await fetch(window.S12_STATIC + "countries-50m.json")).json();
    const land = unwrapped(topojson.feature(world, world.objects.land));
    window.s12Land = land;
    L.geoJSON(land, { interactive: false, style: { stroke: false, fillColor: "#f3efe6", fillOpacity: 1 } }).addTo(map);
    L.geoJSON(topojson.mesh(world, world.objects.countries, (a, b) => a !== b),
              { interactive: false, style: { color: "#b8b0a0", weight: 0.7 } }).addTo(map);
    const rows = (await allRows()).filter(r => r.footprint);
    const columns = Object.keys(rows[0] || {}).filter(c => !["footprint", "geom"].includes(c));
    const select = document.createElement("select");
    select.id = "s12-colour";
    select.innerHTML = columns.map(c => `<option>${c}</option>`).join("");
    select.value = columns.includes("season") ? "season" : (columns.includes("split") ? "split" : columns[0]);
    const legend = document.createElement("span");
    controls.append("Footprints coloured by ", select, " ", legend);
    const database = (document.body.className.match(/\bdb-(\S+)/) || [])[1];
    let layer = null;
    const draw = () => {
      const { colour, legend: entries } = colouring(rows, select.value);
      if (layer) layer.remove();
      const features = rows.map(r => ({ type: "Feature", geometry: JSON.parse(r.footprint), properties: r }));
      layer = L.geoJSON(features, {
        style: f => ({ color: colour(f.properties), fillColor: colour(f.properties), weight: 2, fillOpacity: 0.5 }),
        onEachFeature: (f, l) => {
          l.bindTooltip(String(f.properties.name ?? f.properties.scene_id ?? ""));
          if (f.properties.scene_id !== undefined) {
            l.on("click", () => { window.location = `/${database}/scenes/${f.properties.scene_id}`; });
          }
        },
      }).addTo(map);
      legend.innerHTML = entries.map(([k, c]) => `<span style="color:${c}">&#9632;</span> ${k}`).join(" &nbsp; ");
      box.dataset.footprints = features.length;
      window.s12Footprints = features;
    };
    select.addEventListener("change", draw);
    draw();
    if (rows.length) map.fitBounds(layer.getBounds(), { maxZoom: 8, padding: [10, 10] });
  }

  // A scene's row page: its quicklooks (S2, S1, land cover) and, over the S2 one, its patches of
  // the authors' grid, the clean ones (no cloud, no nodata: FilteredSEN12TP's) outlined in green.
  function sceneQuicklooks() {
    const scene = window.location.pathname.split("/").pop();
    if (!database || !document.body.classList.contains("row") || !document.body.classList.contains("table-scenes")
        || !/^[0-9]+$/.test(scene)) return;
    const route = `${routes}/${scene}`;
    const panel = document.createElement("div");
    panel.id = "s12-quicklooks";
    panel.style = "display: flex; gap: 12px; flex-wrap: wrap; margin: 1em 0";
    const figure = (what, caption) => {
      const box = document.createElement("figure");
      box.style = "position: relative; margin: 0; width: 320px";
      const img = document.createElement("img");
      img.className = "s12-quicklook";
      img.dataset.what = what;
      img.src = `${route}/${what}.png`;
      img.style = "width: 320px; height: 320px; object-fit: contain; background: #eee; display: block";
      // A scene whose file is not on disk says so in the picture's place; a look of the other
      // dataset (IGBP on a SEN12TP scene, WorldCover on a SEN12MS one) is left out.
      img.onerror = () => fetch(img.src).then(r => r.text()).then(text => {
        if (!/on disk/.test(text)) return box.remove();
        const note = document.createElement("div");
        note.className = "s12-missing";
        note.dataset.what = what;
        note.style = "width: 320px; height: 320px; background: #eee; color: #555; display: flex; align-items: center;"
                     + " justify-content: center; text-align: center; padding: 1em; box-sizing: border-box";
        note.textContent = `not on disk: ${text}`;
        img.replaceWith(note);
      }, () => box.remove());
      const label = document.createElement("figcaption");
      label.textContent = caption;
      box.append(img, label);
      panel.appendChild(box);
      return box;
    };
    const s2 = figure("rgb", "S2 true colour; patches of the authors' grid, clean ones in green");
    figure("vv", "S1 VV");
    const maps = [figure("worldcover", "WorldCover"), figure("igbp", "IGBP land cover")];
    // The map's legend: the scene's classes, largest first, in the quicklook's colours.
    fetch(`${route}/legend.json`).then(r => r.json()).then(({ classes }) => {
      if (!classes || !classes.length) return;
      const list = document.createElement("ul");
      list.className = "s12-legend";
      list.style = "list-style: none; padding: 0; margin: 4px 0; font-size: 0.85em";
      list.innerHTML = classes.map(c => `<li><span style="color: ${c.colour}">&#9632;</span> ${c.class} ${c.label} `
                                          + `(${(100 * c.fraction).toFixed(1)} %)</li>`).join("");
      maps.filter(m => m.isConnected).forEach(m => m.appendChild(list.cloneNode(true)));
    });
    // Above the row's table: the pictures are what a visitor came for.
    const anchor = document.querySelector(".table-wrapper") || document.querySelector("table");
    if (anchor) anchor.parentNode.insertBefore(panel, anchor);
    fetch(`${route}/patches.json`).then(r => r.json()).then(grid => {
      if (!grid.patches) return;
      const SVG = "http://www.w3.org/2000/svg";
      const svg = document.createElementNS(SVG, "svg");
      svg.id = "s12-patch-grid";
      svg.setAttribute("viewBox", `0 0 ${grid.width} ${grid.height}`);
      svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
      svg.setAttribute("style", "position: absolute; left: 0; top: 0; width: 320px; height: 320px");
      for (const p of grid.patches) {
        const clean = p.cloud_fraction !== null && p.cloud_fraction <= 0.001 && p.nodata_fraction === 0;
        const rect = document.createElementNS(SVG, "rect");
        Object.entries({ x: p.col, y: p.row, width: p.width, height: p.height }).forEach(([k, v]) => rect.setAttribute(k, v));
        rect.setAttribute("class", clean ? "s12-clean" : "s12-patch");
        rect.setAttribute("style", clean ? "fill: none; stroke: #0f0; stroke-width: 2px; vector-effect: non-scaling-stroke"
                                         : "fill: none; stroke: rgba(255,255,255,0.35); stroke-width: 1px; vector-effect: non-scaling-stroke");
        svg.appendChild(rect);
      }
      s2.appendChild(svg);
    });
  }

  // Beside every scene id of a table or query (the key column too, which Datasette renders as a
  // link without asking plugins), the scene's quicklook as a thumbnail: the kept one, no raster read.
  function thumbnails() {
    if (!database || document.body.classList.contains("row")) return;
    for (const cell of document.querySelectorAll("table.rows-and-columns td.col-scene_id")) {
      const id = cell.textContent.trim();
      if (!/^[0-9]+$/.test(id)) continue;
      const img = document.createElement("img");
      img.className = "s12-thumb";
      img.loading = "lazy";
      img.height = 48;
      img.alt = "";
      img.src = `${routes}/${id}/rgb.png`;
      img.onerror = () => img.remove();
      cell.append(" ", img);
    }
  }

  npyLinks();
  footprintMap();
  sceneQuicklooks();
  thumbnails();
})();
