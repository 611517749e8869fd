"""Saving and loading a themes model: a numpy ``.npz`` file read without pickle.

Only arrays of numbers and of strings are stored (``allow_pickle=False``), so a model
file cannot run code when loaded; a format number is checked first.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from bot.themes.model import ThemeModel

FORMAT = "postsale-themes"
VERSION = 1
SUFFIX = ".npz"
_KEYS = ("meta", "vocabulary", "idf", "coef", "intercept")


def save(model: ThemeModel, path: Path) -> None:
    words = sorted(model.vocabulary, key=model.vocabulary.__getitem__)
    meta = {"format": FORMAT, "version": VERSION, "classes": list(model.classes)}
    with open(path, "wb") as out:  # an open file: numpy would add ".npz" to a bare name
        np.savez_compressed(
            out,
            meta=np.array(json.dumps(meta)),
            vocabulary=np.array(words, dtype=str),
            idf=model.idf.astype(np.float32),
            coef=model.coef.astype(np.float32),
            intercept=model.intercept.astype(np.float32),
        )


def load(path: Path) -> ThemeModel:
    """The model saved at ``path``; ``ValueError`` saying what is wrong with a bad file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in _KEYS if k not in data.files]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            meta = json.loads(str(data["meta"]))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError("not a postsale themes model")
            if meta.get("version") != VERSION:
                raise ValueError(
                    f"made by another version of postsale (format {meta.get('version')},"
                    f" this one reads {VERSION}): train it again with `postsale themes train`"
                )
            words = [str(w) for w in data["vocabulary"]]
            return ThemeModel(
                {w: i for i, w in enumerate(words)},
                data["idf"],
                data["coef"],
                data["intercept"],
                [str(c) for c in meta["classes"]],
            )
    except FileNotFoundError:
        raise ValueError(f"themes model {path}: no such file") from None
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise ValueError(f"themes model {path}: not a usable model file ({exc})") from exc
