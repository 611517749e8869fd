"""Every text the flows can say is translated in every catalog, with the same parameters."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

import flows
from bot.i18n import LOCALES, catalog, catalog_path

FLOWS_DIR = Path(flows.__file__).parent
BABEL_CFG = FLOWS_DIR.parent / "babel.cfg"
# The same keywords as babel.cfg's pybabel command: say(), button() and N_() take the msgid first.
KEYWORDS = {"say": (1,), "button": (1,), "N_": (1,)}


def extracted() -> set[str]:
    with BABEL_CFG.open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(FLOWS_DIR), method_map=method_map, options_map=options_map, keywords=KEYWORDS
    ):
        assert isinstance(message, str), f"plural or odd message: {message!r}"
        found.add(message)
    return found


MSGIDS = sorted(extracted())


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_flows_say_a_reasonable_number_of_things() -> None:
    assert len(MSGIDS) > 50


@pytest.mark.parametrize("locale", LOCALES)
def test_each_catalog_exists_where_babel_cfg_says(locale: str) -> None:
    assert catalog_path(locale).is_file()


@pytest.mark.parametrize("locale", LOCALES)
def test_every_msgid_used_in_flows_is_translated(locale: str) -> None:
    missing = [m for m in MSGIDS if not catalog(locale).get(m, "").strip()]
    assert missing == []


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_exactly_the_placeholders_of_the_source(locale: str) -> None:
    wrong = {
        m: catalog(locale)[m] for m in MSGIDS if fields(catalog(locale).get(m, "")) != fields(m)
    }
    assert wrong == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogs_hold_no_stale_messages(locale: str) -> None:
    assert sorted(set(catalog(locale)) - set(MSGIDS)) == []


@pytest.mark.parametrize("locale", ["pt-BR", "es", "ca"])
def test_other_languages_are_really_translated_not_copied(locale: str) -> None:
    copied = [m for m in MSGIDS if catalog(locale)[m] == m and len(m) > 12]
    assert copied == []


@pytest.mark.parametrize("locale", LOCALES)
def test_the_skip_button_is_named_as_the_reason_question_says(locale: str) -> None:
    skip = catalog(locale)["Skip"]
    question = catalog(locale)[
        "Thank you! What is the main reason for your score? Write it in a message, or tap Skip."
    ]
    assert question.rstrip(".").endswith(skip)
