"""Feedback themes: a classifier of short customer texts into ``flows.themes.THEMES``.

Tagging runs in-process on the standard library; numpy and scikit-learn are imported only
to train and save.
"""

from __future__ import annotations

from bot.themes.files import load, save
from bot.themes.model import ThemeModel
from bot.themes.shipped import default_model, model_for
from bot.themes.training import train

__all__ = ["ThemeModel", "default_model", "load", "model_for", "save", "train"]
