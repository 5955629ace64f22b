"""make fuzz: every s12_ function and table function called with random arguments through the
stock sqlite3 shell. The shell must survive every batch (no signal, no abort) and answer a final
query; errors are expected and ignored. Usage: fuzz_sql.py CATALOG [CALLS] [SEED]."""
import random
import subprocess
import sys

EXT = "dist/sen12lite.so"
# Plausible calls; each argument is then replaced by a random value with probability 0.4, so the
# calls reach past argument checking into file reads, windows, geometry and encoding.
SCALARS = {
    "s12_version": [[]], "s12_debug": [[]], "s12_season": [["'2020-07-01'", "45"]],
    "s12_window": [["390", "'s2'", "'B4,B3,B2'", "0", "0", "16", "16"]], "s12_pixel": [["390", "'s2'", "'B8'", "10", "10"]],
    "s12_value": [["390", "'s2'", "'B8'", "-10.9", "11.6"]],
    "s12_stats": [["390", "'s1'", "'VV'"], ["455", "'s2'", "'B4'", "0", "0", "32", "32"]],
    "s12_index": [["455", "'ndvi'", "0", "0", "32", "32"]], "s12_index_mean": [["455", "'evi'"], ["390", "'cr'", "0", "0", "64", "64"]],
    "s12_intersects": [["390", "'POINT(-10.9 11.6)'"]], "s12_png": [["390", "'rgb'", "0", "0", "32", "32"]],
    "s12_zonal": [["390", "'s2'", "'ndvi'", "'POLYGON((-10.95 11.61, -10.94 11.61, -10.945 11.618, -10.95 11.61))'"]],
}
# Aggregates over the rows of scenes (the scene argument usually a column).
AGGREGATES = {"s12_band_summary": [["scene_id", "'s2'", "'B4'"], ["name", "'s1'", "2", "'[0.01, 0.99]'"]],
              "s12_normalization": [["scene_id", "'s2'", "'B4,B3,B2'"], ["scene_id", "'s1'", "'*'"]],
              "s12_batch": [["scene_id", "'s2'", "'B4,B3,B2'", "0", "0", "16", "16"], ["scene_id", "'s1'", "'*'", "8", "4", "8", "8"]]}
TABLES = {"s12_patches": [["390", "64", "57"], ["455"], []], "s12_pixels": [["390", "'s2'", "0", "0", "4", "4"]],
          "s12_nearest": [["-10.9", "11.6", "3"], ["0", "0"]], "s12_indices": [[]],
          "s12_intersecting": [["'POLYGON((-11 11.5, -10.9 11.5, -10.9 11.7, -11 11.7, -11 11.5))'"], ["'POINT(-10.9 11.6)'"]],
          "s12_timeseries": [["-10.9", "11.6", "'s2'", "'ndvi'"], ["-10.9", "11.6", "'s1'", "'VV'"]]}


def random_value(rng):
    choices = [
        lambda: "NULL", lambda: str(rng.randint(-5, 300)), lambda: str(rng.choice([390, 455, 126, 1, 0, -1])),
        lambda: str(rng.choice([2**31, 2**63 - 1, -2**63, 10**12])), lambda: repr(rng.uniform(-1e3, 1e3)),
        lambda: rng.choice(["1e308", "-1e308", "(0.0/0.0)", "9e999", "-0.0"]),
        lambda: "x'" + "".join(rng.choice("0123456789abcdef") for _ in range(2 * rng.randint(0, 20))) + "'",
        lambda: "zeroblob(" + str(rng.choice([0, 1, 10**6])) + ")",
        lambda: "'" + rng.choice(["", "s2", "s1", "worldcover", "dsm", "lc", "B4", "B4,B3,B2", "*", "VV", "vh", "ndvi", "rgb",
                                  "cr", "rvi", "29_390", "1008_455", "B10", "0", "-1", "99,1", "é漢字🌍", "\\x00",
                                  "'; DROP TABLE scenes; --", "POINT(0 0)", "POINT(-47.7 -1.9)", "POLYGON((0 0,1 0,1 1,0 0))",
                                  "POLYGON((0 0, 1 1))", '{"type":"Point","coordinates":[1,2]}', '{"type":"Polygon"}', "{",
                                  "GEOMETRYCOLLECTION(POINT(1 1))", "2020-07-01", "2020-13-45T99:99", "../../etc/passwd",
                                  "/vsicurl/http://x", "B" * 5000]).replace("'", "''") + "'",
        lambda: "randomblob(" + str(rng.randint(0, 100)) + ")",
    ]
    return rng.choice(choices)()


def arguments(rng, templates):
    template = list(rng.choice(templates))
    if rng.random() < 0.1:  # a wrong number of arguments
        template = template[:rng.randint(0, len(template))] + [random_value(rng) for _ in range(rng.randint(0, 2))]
    return ", ".join(random_value(rng) if rng.random() < 0.4 else a for a in template)


def random_call(rng):
    draw = rng.random()
    if draw < 0.5:
        name = rng.choice(list(SCALARS))
        return f"SELECT {name}({arguments(rng, SCALARS[name])});"
    if draw < 0.6:
        name = rng.choice(list(AGGREGATES))
        return f"SELECT {name}({arguments(rng, AGGREGATES[name])}) FROM scenes WHERE scene_id % 5 = 0 GROUP BY split;"
    name = rng.choice(list(TABLES))
    return f"SELECT count(*) FROM {name}({arguments(rng, TABLES[name])});"


def main():
    db, calls, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100_000, int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(seed)
    batch, done = 5_000, 0
    while done < calls:
        n = min(batch, calls - done)
        script = "\n".join([f".load {EXT}"] + [random_call(rng) for _ in range(n)] + ["SELECT 'alive';"])
        result = subprocess.run(["/usr/bin/sqlite3", db], input=script.encode(), capture_output=True, timeout=1800)
        alive = result.stdout.rstrip().endswith(b"alive")
        if result.returncode < 0 or not alive:
            sys.exit(f"fuzz: the shell died (status {result.returncode}) in the batch after {done} calls, seed {seed}\n"
                     + result.stderr.decode(errors="replace")[-2000:])
        done += n
        print(f"fuzz: {done} calls, shell alive", flush=True)
    print(f"fuzz: {done} random calls of {len(SCALARS) + len(AGGREGATES) + len(TABLES)} functions, the host never died")


if __name__ == "__main__":
    main()
