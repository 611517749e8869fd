"""A trained themes model, tagging with numpy alone.

The weights come from scikit-learn (``bot.themes.training``), but tagging needs only the
vocabulary, the idf weights and the linear model's coefficients: scikit-learn costs about
100 MB of a process's memory once imported, numpy a tenth of that, and ``postsale run``
tags each reason as it arrives.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from bot.themes.features import features


class ThemeModel:
    """Tags a text with one theme name (``None`` for an empty text)."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: Sequence[str],
    ) -> None:
        n_features, n_classes = coef.shape
        if idf.shape != (n_features,) or intercept.shape != (n_classes,):
            raise ValueError("themes model: the weights' shapes do not agree")
        if len(classes) != n_classes or len(vocabulary) != n_features:
            raise ValueError("themes model: the classes or the vocabulary do not match")
        self.vocabulary = vocabulary
        self.idf = idf.astype(np.float64)
        self.coef = coef.astype(np.float64)
        self.intercept = intercept.astype(np.float64)
        self.classes: tuple[str, ...] = tuple(classes)

    def scores(self, text: str) -> np.ndarray | None:
        """One score per class (higher is likelier), ``None`` for an empty text."""
        if not text or not text.strip():
            return None
        counts = Counter(f for f in features(text) if f in self.vocabulary)
        if not counts:
            return self.intercept.copy()
        index = np.fromiter((self.vocabulary[f] for f in counts), dtype=np.intp)
        # TF-IDF as scikit-learn's vectorizer makes it: 1 + ln(count), times idf, L2 norm.
        tf = np.fromiter((1.0 + math.log(n) for n in counts.values()), dtype=np.float64)
        weights = tf * self.idf[index]
        weights /= np.sqrt(weights @ weights)
        result: np.ndarray = weights @ self.coef[index] + self.intercept
        return result

    def tag(self, text: str) -> str | None:
        scores = self.scores(text)
        if scores is None:
            return None
        return self.classes[int(np.argmax(scores))]

    def tag_many(self, texts: Sequence[str]) -> list[str | None]:
        return [self.tag(text) for text in texts]
