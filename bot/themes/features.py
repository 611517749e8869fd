"""The features of a text: words, word pairs and triples, letter groups, and the words a
negation governs, after folding case and accents.

One function serves training (as the vectorizer's analyzer) and tagging, so that what the
model learned and what it is shown are made the same way. Customers type without accents
and with typos: folded letters and letter groups (3 to 5 inside a word) let "nao",
"não" and "naao" share most of their features.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_REPEAT = re.compile(r"(.)\1{2,}")  # "muuuito" -> "muuito": stretched letters are emphasis
CHAR_SIZES = (3, 4, 5)
# Folded negations of the four languages: "nao chegou" and "chegou" must not look alike,
# nor "sem problema" and "problema". The next NEGATED words get an "n " feature too.
# Not "no": in Portuguese it is "in the" ("chegou no prazo"); word pairs keep Spanish
# and English "no llego" / "no reply" apart anyway.
NEGATIONS = frozenset(
    ("nao", "nem", "nunca", "sem", "jamais")  # pt
    + ("not", "never", "without", "nor", "dont", "didnt", "doesnt", "isnt", "wasnt")  # en
    + ("havent", "hasnt", "wont", "cant")  # en, apostrophe folded away
    + ("ni", "sin")  # es ("nunca" above)
    + ("cap", "sense", "mai")  # ca
)
NEGATED = 3


def fold(text: str) -> str:
    """Lower case, no accents, letters and digits only, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", _REPEAT.sub(r"\1\1", plain)).strip()


def features(text: str) -> list[str]:
    """Word, word-pair and letter-group features of ``text`` (repeats kept: they count)."""
    words = fold(text).split()
    out = [f"w {w}" for w in words]
    out.extend(f"p {a} {b}" for a, b in zip(words, words[1:], strict=False))
    out.extend(f"t {a} {b} {c}" for a, b, c in zip(words, words[1:], words[2:], strict=False))
    out.extend(_negated(words))
    for word in words:
        padded = f" {word} "
        for size in CHAR_SIZES:
            out.extend(padded[i : i + size] for i in range(len(padded) - size + 1))
    return out


def _negated(words: list[str]) -> list[str]:
    out: list[str] = []
    left = 0
    for word in words:
        if word in NEGATIONS:
            left = NEGATED
        elif left:
            out.append(f"n {word}")
            left -= 1
    return out
