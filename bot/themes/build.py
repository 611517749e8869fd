"""Build the shipped default model from the examples: ``python -m bot.themes.build``.

Run it after changing ``bot/themes/examples/``; a unit test checks that the shipped file
is what this makes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bot.themes.files import save
from bot.themes.shipped import DEFAULT_MODEL_FILE, example_rows
from bot.themes.training import train


def build(out: Path = DEFAULT_MODEL_FILE) -> None:
    rows = example_rows()
    started = time.perf_counter()
    model = train(rows)
    save(model, out)
    took = time.perf_counter() - started
    print(f"{len(rows)} examples, {len(model.vocabulary)} features -> {out} ({took:.1f} s)")


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MODEL_FILE)
