// sen12lite's Datasette pages: .npy download links, and a map of the footprints on the page.
(function () {
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

  // The footprints of the rows on this page, drawn as one SVG map above the table (lon/lat
  // degrees, equirectangular). No tiles and no library: it works offline and on a public instance
  // that must not send its visitors to a third-party tile server. Hover a polygon for its scene.
  function footprintMap() {
    const SVG = "http://www.w3.org/2000/svg";
    const rows = [...document.querySelectorAll("table.rows-and-columns tbody tr")];
    const scenes = rows.map(row => {
      const cell = row.querySelector("td.col-footprint");
      const name = row.querySelector("td.col-name");
      try {
        const geometry = JSON.parse(cell.textContent);
        return geometry.type === "Polygon" ? { ring: geometry.coordinates[0], name: name ? name.textContent.trim() : "" } : null;
      } catch (e) {
        return null;
      }
    }).filter(Boolean);
    if (!scenes.length) return;

    const points = scenes.flatMap(s => s.ring);
    const lons = points.map(p => p[0]), lats = points.map(p => p[1]);
    const pad = 0.5;
    const west = Math.min(...lons) - pad, east = Math.max(...lons) + pad;
    const south = Math.min(...lats) - pad, north = Math.max(...lats) + pad;

    const svg = document.createElementNS(SVG, "svg");
    svg.id = "s12-footprints";
    svg.setAttribute("viewBox", `${west} ${-north} ${east - west} ${north - south}`);
    svg.setAttribute("style", "width: 100%; height: 320px; background: #eef3f7; border: 1px solid #ccc");
    // Meridians and parallels every 10 degrees, to place the scenes without a base map.
    const line = (x1, y1, x2, y2) => {
      const l = document.createElementNS(SVG, "line");
      Object.entries({ x1, y1, x2, y2 }).forEach(([k, v]) => l.setAttribute(k, v));
      l.setAttribute("style", "stroke: #bcc8d2; stroke-width: 1px; vector-effect: non-scaling-stroke");
      svg.appendChild(l);
    };
    for (let lon = Math.ceil(west / 10) * 10; lon <= east; lon += 10) line(lon, -north, lon, -south);
    for (let lat = Math.ceil(south / 10) * 10; lat <= north; lat += 10) line(west, -lat, east, -lat);
    for (const scene of scenes) {
      const polygon = document.createElementNS(SVG, "polygon");
      polygon.setAttribute("points", scene.ring.map(([lon, lat]) => `${lon},${-lat}`).join(" "));
      polygon.setAttribute("style", "fill: rgba(0, 110, 60, 0.35); stroke: #064; stroke-width: 5px; stroke-linejoin: round; vector-effect: non-scaling-stroke");
      const title = document.createElementNS(SVG, "title");
      title.textContent = scene.name;
      polygon.appendChild(title);
      svg.appendChild(polygon);
    }
    // A 5 px outline keeps a 20 km scene visible on a map of the world.
    const wrapper = document.querySelector(".table-wrapper");
    wrapper.parentNode.insertBefore(svg, wrapper);
  }

  npyLinks();
  footprintMap();
})();
