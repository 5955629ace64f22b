"""What every bench times with, kept free of GDAL's Python bindings (the wheel's Python has none)."""
import time


def best_of(rounds, f):
    """The fastest of several timed rounds (the least disturbed by the machine)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)
