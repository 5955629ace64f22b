"""The Datasette and sqlite-utils plugins of the wheel, in build/wheelhosts (pyenv's Python, whose
sqlite3 cannot load extensions; both tools use pysqlite3-binary there). Datasette runs on
127.0.0.1 and a real headless Chromium (Debian's) loads its pages: the quicklooks must decode
(naturalWidth > 0) and the footprint map must hold one polygon per scene on the page. The oracles
are GDAL's Python bindings (pixels) and the catalog read with Python's sqlite3."""
import io
import json
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from html import unescape

import numpy as np
import pytest

from conftest import ROOT, load
from oracles import gdal_window, patch_oracle
from servers import Datasette

CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=20000"]
ARTEFACTS = ROOT / "build" / "test-artefacts"
QUICKLOOKS = ("SELECT name, s12_png(scene_id, 'rgb', 0, 0, 240, 240) AS png, "
              "s12_window(scene_id, 's2', 'B4,B8', 3, 5, 16, 8) AS w FROM scenes WHERE has_files ORDER BY scene_id")

CHECK_PAGE = """<!doctype html>
<html><body><pre id="result">pending</pre>
<iframe id="quicklooks" src="QUICKLOOKS" width="1400" height="900"></iframe>
<iframe id="scenes" src="/catalog/scenes?has_files=1" width="1400" height="900"></iframe>
<iframe id="all" src="/catalog/scenes?_size=50" width="1400" height="900"></iframe>
<script>
// Whether a [lon, lat] point is inside a GeoJSON (Multi)Polygon feature collection (even-odd rule).
function inside(point, collection) {
  const [x, y] = point;
  const rings = collection.features.flatMap(f => f.geometry.type === "Polygon" ? f.geometry.coordinates
                                                  : f.geometry.coordinates.flat());
  let odd = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) odd = !odd;
    }
  }
  return odd;
}
// The window's load event waits for the frames and their images; the maps fetch the result's
// pages after that: wait for it (virtual time runs the timers).
function report(tries) {
  const quicklooks = document.getElementById("quicklooks").contentDocument;
  const scenes = document.getElementById("scenes").contentDocument;
  const all = document.getElementById("all").contentWindow;
  const ready = scenes.querySelector("#s12-map[data-footprints]") && all.document.querySelector("#s12-map[data-footprints]");
  if (!ready && tries < 200) return setTimeout(() => report(tries + 1), 100);
  const land = all.s12Land || { type: "FeatureCollection", features: [] };
  const centres = (all.s12Footprints || []).map(f => {
    const ring = f.geometry.coordinates[0].slice(1);
    return [ring.reduce((s, p) => s + p[0], 0) / ring.length, ring.reduce((s, p) => s + p[1], 0) / ring.length];
  });
  document.getElementById("result").textContent = JSON.stringify({
    whole_result: centres.length,
    over_land: centres.filter(c => inside(c, land)).length,
    swapped_over_land: centres.filter(([lon, lat]) => inside([lat, lon], land)).length,
    colour_choices: [...all.document.querySelectorAll("#s12-colour option")].map(o => o.value),
    images: [...quicklooks.querySelectorAll("img.s12-png")].map(i => [i.naturalWidth, i.naturalHeight]),
    arrays: [...quicklooks.querySelectorAll(".s12-npy")].map(e => e.textContent),
    errors: [...quicklooks.querySelectorAll(".message-error")].map(e => e.textContent),
    rows: scenes.querySelectorAll("table.rows-and-columns tbody tr").length,
    downloads: [...quicklooks.querySelectorAll("a.s12-npy-download")].map(a => a.getAttribute("href")),
    polygons: (scenes.defaultView.s12Footprints || []).map(f => f.properties.name),
  });
}
window.addEventListener("load", () => report(0));
</script></body></html>
"""


@pytest.fixture(scope="module")
def server(wheel_hosts, tp_db, tmp_path_factory):
    static = tmp_path_factory.mktemp("static")
    (static / "check.html").write_text(CHECK_PAGE.replace("QUICKLOOKS", "/catalog?" + urllib_query(QUICKLOOKS)))
    command = lambda port: [str(wheel_hosts / "bin" / "datasette"), "serve", str(tp_db), "--host", "127.0.0.1",
                            "--port", str(port), "--static", f"check:{static}",
                            # Eight quicklooks on a busy 2-core machine can pass Datasette's 1 s default.
                            "--setting", "sql_time_limit_ms", "20000"]
    with Datasette(command, {}) as running:
        yield running


def urllib_query(sql):
    import urllib.parse

    return urllib.parse.urlencode({"sql": sql})


def scenes_on_disk(db):
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT scene_id, name FROM scenes WHERE has_files ORDER BY scene_id").fetchall()


def test_the_plugin_loads_the_extension_and_serves_the_readme_examples_as_canned_queries(server):
    status, body = server.get("/catalog.json", sql="SELECT s12_version() AS v", _shape="array")
    assert status == 200 and body[0]["v"].startswith("v"), body
    status, body = server.get("/catalog.json")
    examples = sorted(p.stem for p in (ROOT / "sql" / "examples").glob("*.sql"))
    assert status == 200 and sorted(q["name"] for q in body["queries"]) == examples, body
    status, body = server.get("/catalog/01_scene_counts.json", _shape="array")
    assert status == 200 and {r["dataset"] for r in body} == {"sen12tp"}, body


@pytest.fixture(scope="module")
def browser(server):
    """What a real Chromium sees on the check page: the state of both frames once loaded."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make deps installs it)")
    dom = subprocess.run([*CHROMIUM_FLAGS, "--dump-dom", server.url("/check/check.html")], capture_output=True,
                         text=True, timeout=120).stdout
    return json.loads(unescape(re.search(r'<pre id="result">(.*?)</pre>', dom, re.S).group(1)))


def test_chromium_shows_every_quicklook_and_a_map_of_the_footprints(server, browser, tp_db):
    scenes = scenes_on_disk(tp_db)
    assert browser["images"] == [[240, 240]] * len(scenes), browser
    assert browser["arrays"] == ["uint16 (2, 8, 16)"] * len(scenes), browser
    assert browser["rows"] == len(scenes) and sorted(browser["polygons"]) == sorted(n for _, n in scenes), browser
    # The map of a table page holds its whole result, not the page's 50 rows: all 2319 scenes of the
    # metadata, over Natural Earth's land (95 %: the others' centres are off a coast or on an island
    # the 1:50m map does not draw). The same points with longitude and latitude swapped mostly miss
    # it, so the check tells a right placement from a wrong one.
    with closing(sqlite3.connect(tp_db)) as conn:
        total = conn.execute("SELECT count(*) FROM scenes").fetchone()[0]
    assert browser["whole_result"] == total == 2319, browser
    assert browser["over_land"] >= 0.9 * total and browser["swapped_over_land"] < 0.5 * total, browser
    assert {"season", "split", "cloud_fraction"} <= set(browser["colour_choices"]), browser
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / "datasette-scenes.png"  # docs/images/datasette-map.png is one of these
    subprocess.run([*CHROMIUM_FLAGS, f"--screenshot={shot}", "--window-size=1280,1000",
                    server.url("/catalog/scenes", _size=20)], capture_output=True, timeout=120)
    assert shot.stat().st_size > 10_000


def test_a_window_downloads_as_an_npy_file_with_gdals_values(server, browser, tp_db):
    scenes = scenes_on_disk(tp_db)
    assert len(browser["downloads"]) == len(scenes), browser
    for (scene, _), link in zip(scenes, browser["downloads"]):
        status, headers, body = server.fetch(link)
        assert status == 200 and re.search(r'filename="[^"]*\.npy"', headers["Content-Disposition"]), headers
        with closing(sqlite3.connect(tp_db)) as conn:
            expected = gdal_window(conn, scene, "s2", [4, 8], 3, 5, 16, 8)
        np.testing.assert_array_equal(np.load(io.BytesIO(body)), expected)


def test_the_public_recipe_serves_with_the_plugin(wheel_hosts, tp_db):
    script = ROOT / "examples" / "datasette" / "serve-public.sh"
    env = {"DATASETTE": str(wheel_hosts / "bin" / "datasette")}
    with Datasette(lambda port: ["sh", str(script), str(tp_db), str(port)], env) as public:
        assert public.get("/catalog.json", sql="SELECT 1")[0] == 403
        status, body = public.get("/catalog/scene_ndvi.json", scene="29_390")
        assert status == 200 and body["rows"][0][1] is not None, body


def test_sqlite_utils_runs_a_table_function_without_load_extension(wheel_hosts, tp_db):
    out = subprocess.run([wheel_hosts / "bin" / "sqlite-utils", "query", tp_db,
                          "SELECT count(*) AS n FROM s12_patches(390, 64, 64)"], capture_output=True, text=True)
    assert out.returncode == 0 and json.loads(out.stdout) == [{"n": 9}], out.stderr


SCENE_PAGE_CHECK = """<!doctype html>
<html><body><pre id="result">pending</pre>
<iframe id="row" src="/catalog/scenes/SCENE" width="1400" height="900"></iframe>
<iframe id="scenes" src="/catalog/scenes?has_files=1" width="1400" height="900"></iframe>
<iframe id="missing" src="/catalog/scenes/MISSING" width="1400" height="900"></iframe>
<script>
// The row page fetches its patch grid after it loads: wait for it (virtual time runs the timers).
function report(tries) {
  const row = document.getElementById("row").contentDocument;
  const scenes = document.getElementById("scenes").contentDocument;
  const missing = document.getElementById("missing").contentDocument;
  // Pictures that cannot be drawn are replaced or removed once their error is fetched.
  const settled = missing.querySelectorAll("img.s12-quicklook").length === 0
                  && [...row.querySelectorAll("img.s12-quicklook")].every(i => i.naturalWidth > 0);
  if ((!row.querySelector("#s12-patch-grid") || !row.querySelector(".s12-legend") || !settled) && tries < 100) {
    return setTimeout(() => report(tries + 1), 100);
  }
  document.getElementById("result").textContent = JSON.stringify({
    quicklooks: [...row.querySelectorAll("img.s12-quicklook")].map(i => [i.dataset.what, i.naturalWidth, i.naturalHeight]),
    patches: row.querySelectorAll("#s12-patch-grid rect").length,
    legend: [...row.querySelectorAll(".s12-legend li")].map(li => li.textContent.trim().split(" ")[1]),
    clean: [...row.querySelectorAll("#s12-patch-grid rect.s12-clean")].map(r => [+r.getAttribute("x"), +r.getAttribute("y")]),
    thumbnails: [...scenes.querySelectorAll("img.s12-thumb")].map(i => i.naturalWidth),
    missing: [...missing.querySelectorAll(".s12-missing")].map(e => [e.dataset.what, e.textContent]),
  });
}
window.addEventListener("load", () => report(0));
</script></body></html>
"""


def test_a_scenes_row_page_shows_its_quicklooks_and_clean_patches_and_the_table_its_thumbnails(
        wheel_hosts, big_db, tmp_path):
    """A real Chromium on a 2000 px scene's row page: the three kept quicklooks decoded at 500 px,
    the 64 patches of the authors' grid drawn over S2 with the clean ones those numpy finds; a
    thumbnail on the scenes table; "not on disk" in place of a scene's pictures when it has no
    files; a screenshot (the one in docs/ and the README is one of them)."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make deps installs it)")
    with closing(sqlite3.connect(big_db)) as conn:
        scene = conn.execute("SELECT scene_id FROM scenes WHERE has_files").fetchone()[0]
        missing, name = conn.execute("SELECT scene_id, name FROM scenes WHERE NOT has_files LIMIT 1").fetchone()
    (tmp_path / "check.html").write_text(SCENE_PAGE_CHECK.replace("SCENE", str(scene)).replace("MISSING", str(missing)))
    command = lambda port: [str(wheel_hosts / "bin" / "datasette"), "serve", str(big_db), "--host", "127.0.0.1",
                            "--port", str(port), "--static", f"check:{tmp_path}", "--setting", "sql_time_limit_ms", "20000"]
    with Datasette(command, {}) as server:
        dom = subprocess.run([*CHROMIUM_FLAGS, "--dump-dom", server.url("/check/check.html")], capture_output=True,
                             text=True, timeout=120).stdout
        seen = json.loads(unescape(re.search(r'<pre id="result">(.*?)</pre>', dom, re.S).group(1)))
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTEFACTS / "datasette-scene.png"  # docs/datasette-scene.png is one of these
        subprocess.run([*CHROMIUM_FLAGS, f"--screenshot={shot}", "--window-size=1100,620",
                        server.url(f"/catalog/scenes/{scene}")], capture_output=True, timeout=120)
    assert seen["quicklooks"] == [["rgb", 500, 500], ["vv", 500, 500], ["worldcover", 500, 500]], seen
    with closing(load(big_db)) as conn:
        expected = [[c, r] for c, r, _, _, cloud, nodata, _ in patch_oracle(conn, scene, 256, 249)
                    if cloud <= 0.001 and nodata == 0]
    assert seen["patches"] == 64 and sorted(seen["clean"]) == sorted(expected), seen
    assert seen["thumbnails"] == [500], seen
    # A scene without files: "not on disk" where its pictures would be, never a broken image.
    assert [what for what, _ in seen["missing"]] == ["rgb", "vv", "worldcover"], seen["missing"]
    assert all(text.startswith(f"not on disk: s12_png: scene {name} has no ") for _, text in seen["missing"]), seen
    with closing(sqlite3.connect(big_db)) as conn:  # the map's classes, largest first
        classes = [str(c) for (c,) in conn.execute(
            "SELECT class FROM landcover WHERE scene_id = ? ORDER BY fraction DESC", (scene,))]
    assert seen["legend"] == classes and classes, seen
    assert shot.stat().st_size > 20_000
