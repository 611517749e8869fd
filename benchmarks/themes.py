"""The themes classifier on Olist's labelled reviews, and how fast it tags.

    .venv/bin/python -m benchmarks.themes              # quality and speed
    .venv/bin/python -m benchmarks.themes --no-speed   # quality only

Data: ``olist_classified_reviews_dev.csv`` ("Brazilian E-Commerce Public Dataset by
Olist", CC BY-NC-SA 4.0) read from the shared data folder, never copied: text = comment
title + " " + message, label = ``most_voted_subclass`` mapped to postsale's theme names;
rows without a label or a text are left out. Printed, with per-theme F1 and each
model's ratio to the TF-IDF baseline:

1. the shipped default model (trained on the team's own examples, never on Olist), on
   every row;
2. ``themes train``'s code trained on the Olist rows, 5-fold stratified CV, alone and
   ``--with-examples`` (the shipped examples mixed into each training fold only);
3. a fair TF-IDF + logistic regression baseline, the same folds: balanced class
   weights, sublinear TF-IDF of word 1-2-grams and in-word letter 2-5-grams with accents
   folded, C chosen by an inner 3-fold CV of each training fold (``tfidf_baseline``);
4. a keyword baseline (first theme whose keyword appears; else ``satisfied``).

Speed: texts per second of ``postsale themes tag`` on a generated CSV, the time of one
``tag()`` of a single text, and what loading the model adds to a fresh process's RSS.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.olist import find_olist_dir
from bot.themes import default_model
from bot.themes.features import fold
from bot.themes.training import _fit

LABELS = {
    "atrasado": "late_delivery",
    "antes_prazo": "early_delivery",
    "entrega_parcial": "partial_delivery",
    "diferente_do_anunciado": "not_as_advertised",
    "baixa_qualidade": "low_quality",
    "devolucao": "return_exchange",
    "outro_entrega": "other_delivery",
    "outro_pedido": "other_order",
    "satisfeito": "satisfied",
}
KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("partial_delivery", ("faltou", "faltando", "incompleto", "so veio", "apenas um")),
    ("early_delivery", ("antes do prazo", "antes da data", "rapid", "antecipad")),
    ("late_delivery", ("nao recebi", "atras", "nao chegou", "ainda nao", "demor")),
    ("not_as_advertised", ("diferente", "errad", "anuncio", "foto")),
    ("low_quality", ("defeito", "quebr", "qualidade", "nao funciona")),
    ("return_exchange", ("devol", "troca", "reembols", "estorno")),
    ("other_delivery", ("embalagem", "transportadora", "correios", "entregador")),
    ("other_order", ("nota fiscal", "cancel", "cobr", "vendedor")),
]
Predict = Callable[[Sequence[str], Sequence[str], Sequence[str]], list[str]]


def olist_rows(path: Path | None = None) -> tuple[list[str], list[str]]:
    path = path or find_olist_dir() / "olist_classified_reviews_dev.csv"
    texts: list[str] = []
    themes: list[str] = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text = f"{row['review_comment_title'] or ''} {row['review_comment_message'] or ''}"
            label = LABELS.get(row["most_voted_subclass"] or "")
            if label and text.strip():
                texts.append(text.strip())
                themes.append(label)
    return texts, themes


def keyword_theme(text: str) -> str:
    folded = fold(text)
    for theme, words in KEYWORDS:
        if any(w in folded for w in words):
            return theme
    return "satisfied"


def postsale_model(
    train_x: Sequence[str], train_y: Sequence[str], test: Sequence[str]
) -> list[str]:
    return [t or "" for t in _fit(train_x, train_y).tag_many(test)]


def postsale_with_examples(
    train_x: Sequence[str], train_y: Sequence[str], test: Sequence[str]
) -> list[str]:
    from bot.themes.shipped import example_rows

    return [t or "" for t in _fit(train_x, train_y, example_rows()).tag_many(test)]


BASELINE_C = (1.0, 3.0, 10.0, 30.0, 100.0)


def tfidf_baseline(
    train_x: Sequence[str], train_y: Sequence[str], test: Sequence[str]
) -> list[str]:
    """A fair off-the-shelf baseline, not a straw man: balanced class weights, TF-IDF
    (sublinear, accents folded) of word 1-2-grams plus in-word letter 2-5-grams, and
    logistic regression with C chosen by a 3-fold CV of the training rows alone."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline, make_union

    common: dict[str, Any] = {"sublinear_tf": True, "strip_accents": "unicode"}
    pipeline = make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, 2), **common),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common),
        ),
        LogisticRegression(class_weight="balanced", max_iter=5000),
    )
    search = GridSearchCV(
        pipeline,
        {"logisticregression__C": BASELINE_C},
        scoring="f1_macro",
        cv=StratifiedKFold(3, shuffle=True, random_state=1),
    )
    search.fit(list(train_x), list(train_y))
    return [str(p) for p in search.predict(list(test))]


def cross_validated(texts: list[str], themes: list[str], predict: Predict) -> list[str]:
    from sklearn.model_selection import StratifiedKFold

    out = [""] * len(texts)
    for train_i, test_i in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, themes):
        guesses = predict(
            [texts[i] for i in train_i], [themes[i] for i in train_i], [texts[i] for i in test_i]
        )
        for i, guess in zip(test_i, guesses, strict=True):
            out[i] = guess
    return out


def scores(truth: list[str], guess: list[str]) -> tuple[float, float, dict[str, float]]:
    from sklearn.metrics import accuracy_score, f1_score

    labels = list(LABELS.values())
    per = f1_score(truth, guess, labels=labels, average=None, zero_division=0)
    macro = f1_score(truth, guess, labels=labels, average="macro", zero_division=0)
    return float(macro), float(accuracy_score(truth, guess)), dict(zip(labels, per, strict=True))


def quality() -> None:
    texts, themes = olist_rows()
    print(f"Olist classified reviews: {len(texts)} rows with a label and a text")
    model = default_model()
    results = {
        "shipped default (all rows)": [t or "" for t in model.tag_many(texts)],
        "themes train, 5-fold CV": cross_validated(texts, themes, postsale_model),
        "--with-examples, 5-fold CV": cross_validated(texts, themes, postsale_with_examples),
        "TF-IDF + LogReg, 5-fold CV": cross_validated(texts, themes, tfidf_baseline),
        "keywords": [keyword_theme(t) for t in texts],
    }
    figures = {name: scores(themes, guess) for name, guess in results.items()}
    base_f1, base_acc, base_per = figures["TF-IDF + LogReg, 5-fold CV"]
    for name, (macro, acc, _) in figures.items():
        print(
            f"{name:28} macro-F1 {macro:.3f} ({macro / base_f1:.2f}x)"
            f" {macro - base_f1:+.3f}  accuracy {acc:.3f} ({acc / base_acc:.2f}x)"
        )
    print("per-theme F1 (ratio to TF-IDF):")
    print(f"{'theme':18} {'rows':>5} " + " ".join(f"{n.split(',')[0][:15]:>18}" for n in figures))
    for theme in LABELS.values():
        cells = []
        for _, _, per in figures.values():
            ratio = f"{per[theme] / base_per[theme]:4.2f}x" if base_per[theme] else "  -  "
            cells.append(f"{per[theme]:.2f} ({ratio})")
        print(f"{theme:18} {themes.count(theme):5} " + " ".join(f"{c:>18}" for c in cells))


RSS_PROBE = """
import os
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
before = rss()
import bot.themes
model = bot.themes.default_model()
model.tag("ainda nao recebi meu pedido")
print((rss() - before) / 2**20)
"""


def speed(rows: int = 20_000) -> None:
    model = default_model()
    text = "comprei dois produtos e so chegou um, quero saber do outro"
    runs = 2000
    started = time.perf_counter()
    for _ in range(runs):
        model.tag(text)
    one = (time.perf_counter() - started) / runs
    print(f"one tag() of a single text: {one * 1e6:.0f} µs")
    rss = subprocess.run(
        [sys.executable, "-c", RSS_PROBE], capture_output=True, text=True, check=True
    )
    print(
        f"loading the default model adds {float(rss.stdout):.1f} MB to a process's RSS"
        " (numpy is not imported)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "reviews.csv"
        sample = [r for r, _ in _sample_texts()]
        with open(source, "w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["id", "comment"])
            out.writerows((i, sample[i % len(sample)]) for i in range(rows))
        cli = [
            sys.executable,
            "-m",
            "bot",
            "themes",
            "tag",
            str(source),
            "--column",
            "comment",
            "--out",
            str(Path(tmp) / "tagged.csv"),
        ]
        env = {**os.environ, "THEMES_MODEL": ""}
        started = time.perf_counter()
        subprocess.run(cli, check=True, env=env, cwd=tmp)
        took = time.perf_counter() - started
    print(
        f"postsale themes tag: {rows} rows in {took:.1f} s = {rows / took:,.0f} texts/s"
        " (the whole command, start-up included)"
    )


def _sample_texts() -> list[tuple[str, str]]:
    from bot.themes.shipped import example_rows

    return example_rows()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--no-speed", action="store_true", help="quality figures only")
    args = parser.parse_args()
    quality()
    if not args.no_speed:
        speed()


if __name__ == "__main__":
    main()
