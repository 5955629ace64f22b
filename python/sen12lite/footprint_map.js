// The footprints of the rows on this page, drawn as one SVG map above the table (lon/lat degrees,
// equirectangular). No tiles and no library: it works offline and on a public instance that must
// not send its visitors' browsers to a third-party tile server. Hover a polygon for its scene.
(function () {
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
  for (const scene of scenes) {
    const polygon = document.createElementNS(SVG, "polygon");
    polygon.setAttribute("points", scene.ring.map(([lon, lat]) => `${lon},${-lat}`).join(" "));
    polygon.setAttribute("style", "fill: rgba(0, 110, 60, 0.35); stroke: #064; stroke-width: 1px; vector-effect: non-scaling-stroke");
    const title = document.createElementNS(SVG, "title");
    title.textContent = scene.name;
    polygon.appendChild(title);
    svg.appendChild(polygon);
  }
  const wrapper = document.querySelector(".table-wrapper");
  wrapper.parentNode.insertBefore(svg, wrapper);
})();
