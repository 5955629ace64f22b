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
      img.onerror = () => box.remove();
      const label = document.createElement("figcaption");
      label.textContent = caption;
      box.append(img, label);
      panel.appendChild(box);
      return box;
    };
    const s2 = figure("rgb", "S2 true colour; patches of the authors' grid, clean ones in green");
    figure("vv", "S1 VV");
    figure("worldcover", "WorldCover");
    figure("igbp", "IGBP land cover");
    // Above the footprint map and the row's table: the pictures are what a visitor came for.
    const anchor = document.getElementById("s12-footprints") || document.querySelector(".table-wrapper")
      || document.querySelector("table");
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
