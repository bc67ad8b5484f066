"""The memory of a server's worker process: how its garbage collector works once the app is
built (scaffold's benchmarks measured both settings under load)."""

import gc

# Tracked objects a request may hold at once before the youngest ones are collected: with
# gc's default (2000), a few requests in flight reached it a hundred times a second, and
# objects still in use were collected and moved on to older generations.
YOUNG_THRESHOLD = 20_000


def tune_gc() -> None:
    """The worker's app and every module it imported live as long as the worker: once it is
    built, the garbage collector stops walking them (gc.freeze, after one last collection);
    its full collections, every second or so under load, then take a few milliseconds
    instead of up to 170. And it collects the young generation less often (YOUNG_THRESHOLD)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
