"""The garbage collector once a process has started: what startup built is left out of later collections.

After startup most of a process's heap is modules, contract validators, routes and settings, none
of it ever garbage. With CPython's default thresholds (700, 10, 10) a full collection walked all of
it every 70,000 allocations, and a replay or a busy service allocates that many in a few
milliseconds: the replay spent a quarter of its CPU in the collector (docs/performance.md).
Freezing the startup heap moves it out of the collector's sight; the higher thresholds collect the
short-lived objects of requests and batches as young as before, and the old generation less often.
"""

from __future__ import annotations

import gc

THRESHOLDS = (2_000, 50, 100)  # young allocations; young collections per middle; middle per full


def settle_after_startup() -> None:
    """Call once, when the process has built what it runs (before serving or replaying)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
