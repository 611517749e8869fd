"""Training a themes model with scikit-learn (imported here only, and only when called).

TF-IDF over ``bot.themes.features`` (words, word pairs, letter groups; sublinear counts)
and a linear SVM with balanced class weights, so that a theme with few examples is not
drowned by "satisfied". The fitted weights are copied into a ``ThemeModel``, which tags
without scikit-learn. ``extra`` rows (``themes train --with-examples``: the shipped
examples) are mixed into the training rows with a lower weight, never into the rows a
cross-validation scores. ``benchmarks/themes_tuning.py`` shows how the choices were made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.themes.features import features
from bot.themes.model import ThemeModel
from flows.themes import THEMES, is_theme

MIN_ROWS = 10
SVM_C = 0.5
EXTRA_WEIGHT = 0.5  # an extra row counts half a store's own row
Rows = Sequence[tuple[str, str]]


def checked_rows(rows: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Texts and themes; ``ValueError`` on an unknown theme or too few rows to learn from."""
    texts: list[str] = []
    themes: list[str] = []
    for text, theme in rows:
        name = theme.strip()
        if not is_theme(name):
            raise ValueError(f"unknown theme {theme!r} (the themes: {', '.join(THEMES)})")
        if text and text.strip():
            texts.append(text)
            themes.append(name)
    if len(texts) < MIN_ROWS or len(set(themes)) < 2:
        raise ValueError(
            f"too few rows to train on: {len(texts)} with text, {len(set(themes))} themes"
            f" (at least {MIN_ROWS} rows and 2 themes)"
        )
    return texts, themes


def _pipeline() -> tuple[Any, Any]:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(analyzer=features, sublinear_tf=True, dtype=np.float64)
    classifier = LinearSVC(C=SVM_C, class_weight="balanced", random_state=0)
    return vectorizer, classifier


def _fit(texts: Sequence[str], themes: Sequence[str], extra: Rows = ()) -> ThemeModel:
    import numpy as np

    vectorizer, classifier = _pipeline()
    matrix = vectorizer.fit_transform([*texts, *(t for t, _ in extra)])
    weights = np.concatenate([np.ones(len(texts)), np.full(len(extra), EXTRA_WEIGHT)])
    classifier.fit(matrix, [*themes, *(c for _, c in extra)], sample_weight=weights)
    coef = classifier.coef_
    intercept = classifier.intercept_
    classes = [str(c) for c in classifier.classes_]
    if len(classes) == 2:  # a binary SVM keeps one row: the second class's side
        coef = np.vstack([-coef[0], coef[0]])
        intercept = np.array([-intercept[0], intercept[0]])
    vocabulary = {str(f): int(i) for f, i in vectorizer.vocabulary_.items()}
    return ThemeModel(vocabulary, vectorizer.idf_, coef.T.ravel(), intercept, classes)


def train(rows: Iterable[tuple[str, str]], extra: Rows = ()) -> ThemeModel:
    """A model of ``(text, theme)`` pairs (and of ``extra``'s, weighed less); rows without
    text are left out."""
    texts, themes = checked_rows(rows)
    return _fit(texts, themes, [(t, c) for t, c in extra if t.strip()])


@dataclass(frozen=True)
class CrossValidation:
    folds: int
    macro_f1: float
    accuracy: float
    per_theme_f1: dict[str, float]


def cross_validate(
    rows: Iterable[tuple[str, str]], folds: int = 5, extra: Rows = ()
) -> CrossValidation:
    """Stratified ``folds``-fold figures of ``train`` on these rows (fewer folds when a
    theme has fewer rows than that; at least 2); ``extra`` only ever trains."""
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    texts, themes = checked_rows(rows)
    smallest = min(Counter(themes).values())
    folds = max(2, min(folds, smallest))
    predicted: list[str | None] = [None] * len(texts)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train_index, test_index in splitter.split(texts, themes):
        model = _fit(
            [texts[i] for i in train_index],
            [themes[i] for i in train_index],
            [(t, c) for t, c in extra if t.strip()],
        )
        for i, tag in zip(test_index, model.tag_many([texts[i] for i in test_index]), strict=True):
            predicted[i] = tag
    labels = sorted(set(themes))
    guesses = [p or "" for p in predicted]
    per_theme = f1_score(themes, guesses, labels=labels, average=None, zero_division=0)
    return CrossValidation(
        folds=folds,
        macro_f1=float(f1_score(themes, guesses, labels=labels, average="macro", zero_division=0)),
        accuracy=float(accuracy_score(themes, guesses)),
        per_theme_f1={t: float(f) for t, f in zip(labels, per_theme, strict=True)},
    )
