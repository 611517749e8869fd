"""The garbage collector's settings for a long-running bot process.

Kept apart from ``bot.entrypoints.runner`` so that the throughput benchmark's bare bots can run
with the same collector settings without importing the whole bot.
"""

from __future__ import annotations

import gc

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
