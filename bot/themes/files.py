"""Saving and loading a themes model: a numpy ``.npz`` file read without pickle.

Only arrays of numbers and of strings are stored (``allow_pickle=False``), so a model
file cannot run code when loaded; a format number is checked first.

Loading reads the archive with the standard library (``bot.themes.npy``), so a running
bot never imports numpy (17 MB of its memory, ``bot.themes.model``); saving, which
follows training on scikit-learn, writes it with numpy.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from bot.themes.model import ThemeModel
from bot.themes.npy import Npz

FORMAT = "postsale-themes"
VERSION = 1
SUFFIX = ".npz"
_KEYS = ("meta", "vocabulary", "idf", "coef", "intercept")


def save(model: ThemeModel, path: Path) -> None:
    import numpy as np

    words = sorted(model.vocabulary, key=model.vocabulary.__getitem__)
    meta = {"format": FORMAT, "version": VERSION, "classes": list(model.classes)}
    by_class = np.asarray(model.columns, dtype=np.float32)
    coef = np.ascontiguousarray(by_class.T)  # (features, classes), C order: as it is read
    with open(path, "wb") as out:  # an open file: numpy would add ".npz" to a bare name
        np.savez_compressed(
            out,
            meta=np.array(json.dumps(meta)),
            vocabulary=np.array(words, dtype=str),
            idf=np.asarray(model.idf, dtype=np.float32),
            coef=coef,
            intercept=np.asarray(model.intercept, dtype=np.float32),
        )


def load(path: Path) -> ThemeModel:
    """The model saved at ``path``; ``ValueError`` saying what is wrong with a bad file."""
    try:
        with Npz(path) as data:
            missing = [k for k in _KEYS if k not in data]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            meta = json.loads(data["meta"].only_string())
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError("not a postsale themes model")
            if meta.get("version") != VERSION:
                raise ValueError(
                    f"made by another version of postsale (format {meta.get('version')},"
                    f" this one reads {VERSION}): train it again with `postsale themes train`"
                )
            classes = [str(c) for c in meta["classes"]]
            vocabulary = {w: i for i, w in enumerate(data["vocabulary"].strings())}
            coef = data["coef"]
            if coef.shape != (len(vocabulary), len(classes)):
                raise ValueError(f"coef's shape {coef.shape} is not (words, classes)")
            idf, intercept = data["idf"].numbers(), data["intercept"].numbers()
            return ThemeModel(vocabulary, idf, coef.numbers(), intercept, classes)
    except FileNotFoundError:
        raise ValueError(f"themes model {path}: no such file") from None
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise ValueError(f"themes model {path}: not a usable model file ({exc})") from exc
