"""``clean_text``: what it leaves can be stored by SQLite and PostgreSQL alike."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flows.text_safety import REPLACEMENT, clean_text, is_clean


def test_nul_is_dropped_and_a_lone_surrogate_becomes_the_replacement_mark() -> None:
    assert clean_text("Bea\x00 Lima") == "Bea Lima"
    assert clean_text("a\ud800b\udfffc") == f"a{REPLACEMENT}b{REPLACEMENT}c"


def test_ordinary_text_is_returned_as_it_is() -> None:
    text = "Ação 😀 çà ñ — 100%"
    assert clean_text(text) is text


UNSAFE = st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"])


@given(st.text(alphabet=st.one_of(st.characters(), UNSAFE)))
def test_any_text_comes_out_encodable_and_without_nul(text: str) -> None:
    cleaned = clean_text(text)
    cleaned.encode("utf-8")  # raises on a surrogate
    assert "\x00" not in cleaned and is_clean(cleaned)
    assert clean_text(cleaned) == cleaned
