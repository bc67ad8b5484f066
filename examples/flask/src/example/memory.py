"""The memory of a server's worker process: how its garbage collector works once the app is
built (scaffold's benchmarks measured these settings under load)."""

import gc


def tune_gc(young_threshold: int | None = None) -> None:
    """The worker's app and every module it imported live as long as the worker: once it is
    built, the garbage collector stops walking them (gc.freeze, after one last collection);
    its full collections, every second or so under load, then take a few milliseconds
    instead of up to 170. With `young_threshold`, the young generation is collected once that
    many tracked objects have piled up, instead of gc's 2000 (see each server for why)."""
    gc.collect()
    gc.freeze()
    if young_threshold is not None:
        _, middle, old = gc.get_threshold()
        gc.set_threshold(young_threshold, middle, old)
