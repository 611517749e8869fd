"""A trained themes model, tagging with the standard library alone.

The weights come from scikit-learn (``bot.themes.training``), but tagging needs only the
vocabulary, the idf weights and the linear model's coefficients: scikit-learn costs about
100 MB of a process's memory once imported, and numpy 17 MB, most of a running bot's
margin under its memory target (``benchmarks.memory``). A text has some dozens of known
features, so its scores are a few hundred multiplications: in plain floats a text takes
about a third longer than with numpy (87 against 65 µs over the shipped examples), and a
running bot tags each reason or complaint once.
"""

from __future__ import annotations

import math
import operator
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from bot.themes.features import features


class ThemeModel:
    """Tags a text with one theme name (``None`` for an empty text).

    ``coef`` is the linear model's weights flat, feature by feature (as numpy stores a
    ``(features, classes)`` array): feature ``f``'s weight for class ``c`` at
    ``f * len(classes) + c``. They are kept a column per class, so that a text's score
    for a class is one gather and one sum, both in C (twice as fast as a loop per
    feature).
    """

    def __init__(
        self,
        vocabulary: dict[str, int],
        idf: Iterable[float],
        coef: Iterable[float],
        intercept: Iterable[float],
        classes: Sequence[str],
    ) -> None:
        self.idf = array("d", idf)
        flat = coef if isinstance(coef, array) else array("d", coef)  # a file's: float32
        self.intercept = array("d", intercept)
        self.classes: tuple[str, ...] = tuple(classes)
        n_features, n_classes = len(self.idf), len(self.classes)
        if len(self.intercept) != n_classes or len(flat) != n_features * n_classes:
            raise ValueError("themes model: the weights' shapes do not agree")
        if len(vocabulary) != n_features:
            raise ValueError("themes model: the classes or the vocabulary do not match")
        self.vocabulary = vocabulary
        self.columns = [array("d", flat[c::n_classes]) for c in range(n_classes)]

    def scores(self, text: str) -> list[float] | None:
        """One score per class (higher is likelier), ``None`` for an empty text."""
        if not text or not text.strip():
            return None
        counts = Counter(f for f in features(text) if f in self.vocabulary)
        scores = list(self.intercept)
        if not counts:
            return scores
        # TF-IDF as scikit-learn's vectorizer makes it: 1 + ln(count), times idf, L2 norm.
        gather = _gatherer([self.vocabulary[f] for f in counts])
        tfs = [1.0 + math.log(n) for n in counts.values()]
        weights = list(map(operator.mul, tfs, gather(self.idf)))
        norm = math.sqrt(math.fsum(w * w for w in weights))
        return [
            s + sum(map(operator.mul, weights, gather(column))) / norm
            for s, column in zip(scores, self.columns, strict=True)
        ]

    def tag(self, text: str) -> str | None:
        scores = self.scores(text)
        if scores is None:
            return None
        return self.classes[max(range(len(scores)), key=scores.__getitem__)]

    def tag_many(self, texts: Sequence[str]) -> list[str | None]:
        return [self.tag(text) for text in texts]


def _gatherer(index: list[int]) -> Callable[[array[float]], tuple[float, ...]]:
    """What picks ``index``'s items of an array, as a tuple (in C, for many)."""
    if len(index) == 1:  # itemgetter of one item gives the item, not a tuple of it
        (only,) = index
        return lambda values: (values[only],)
    return operator.itemgetter(*index)
