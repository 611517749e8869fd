"""The garbage collector's settings for a long-running bot process.

Kept apart from ``bot.entrypoints.runner`` so that the throughput benchmark's bare bots can run
with the same collector settings without importing the whole bot.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable

# Collections of the youngest generation after this many net allocations (CPython: 700).
# Handling an update allocates thousands of short-lived objects (SQLAlchemy rows and
# states, the Bot API libraries' models); at 700, 5,000 updates with aiogram ran the
# collector 1,556 times for 1.2 s of an 11 s run, at 10,000 32 times for 0.4 s
# (benchmarks/throughput.py). The older generations' factors keep full passes rare.
GC_THRESHOLDS = (10_000, 20, 20)


def tune_garbage_collector() -> None:
    """Exempt what start-up built from collection, and collect young objects less often.

    A full collection walks every tracked object: with aiogram, SQLAlchemy and
    matplotlib loaded that took 65-75 ms here, and a send held up that long reaches
    Telegram beside the ones paced after it, past the one-second limit (a 429 and
    a one-second pause for every chat). Frozen, such passes drop under 5 ms.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


TRIM_EVERY = 30.0  # seconds between two ``release_free_memory`` calls in ``postsale run``


def _glibc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None)
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to call
        return None
    return trim


_TRIM = _glibc_trim()


def release_free_memory() -> bool:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``).

    SQLite's page caches, the HTTP libraries' buffers and CPython's larger objects live
    in malloc's heaps, one per thread that allocates (the event loop and each SQLite
    connection's thread). Freed chunks stay in the process, and their pages are reused
    only by an allocation that fits there: ``benchmarks.memory`` with 100,000 customers
    held 6-10 MB free in them, which one trim every 30 s handed back (about 5 MB less
    RSS, flat after the second minute). A call took 0.4-2 ms on the event loop.
    False where there is no glibc.
    """
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
