"""The default model, shipped with postsale, and the choice of model by ``THEMES_MODEL``.

The default is trained on ``examples/*.csv``, texts the team wrote in the four languages
(no store's data: the Olist reviews are CC BY-NC-SA and only evaluate it). Training
needs scikit-learn, which would cost a running bot ~100 MB, so the trained model ships
as ``default-model.npz``, made by ``python -m bot.themes.build``.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterator
from pathlib import Path

from bot.themes.files import load
from bot.themes.model import ThemeModel

HERE = Path(__file__).resolve().parent
EXAMPLES_DIR = HERE / "examples"
DEFAULT_MODEL_FILE = HERE / "default-model.npz"


def example_files() -> list[Path]:
    return sorted(EXAMPLES_DIR.glob("*.csv"))


def read_rows(path: Path) -> Iterator[tuple[str, str]]:
    """``(text, theme)`` of a CSV file with columns ``text`` and ``theme``."""
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield row["text"], row["theme"]


def example_rows() -> list[tuple[str, str]]:
    return [row for path in example_files() for row in read_rows(path)]


@functools.cache
def default_model() -> ThemeModel:
    return load(DEFAULT_MODEL_FILE)


def model_for(path: str) -> ThemeModel:
    """``THEMES_MODEL``'s model: the default when empty, else the file it names."""
    if not path.strip():
        return default_model()
    return load(Path(path))
