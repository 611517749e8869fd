"""Every text the flows and the operators' screens can say is translated in every catalog,
with the same parameters (and every count in each plural form its language has)."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

import bot.operators
import flows
from bot.i18n import LOCALES, catalog, catalog_path, ngettext, po_catalog

FLOWS_DIR = Path(flows.__file__).parent
OPERATORS_DIR = Path(bot.operators.__file__).parent
KPI_DEFS = FLOWS_DIR.parent / "storage" / "read"  # the KPIs' labels and definitions
BABEL_CFG = FLOWS_DIR.parent / "babel.cfg"
# The same keywords as babel.cfg's pybabel command: say(), button(), N_(), translate() and _()
# take the msgid first; Plural() and ngettext() the singular and the plural.
KEYWORDS = {
    "say": (1,),
    "button": (1,),
    "N_": (1,),
    "translate": (1,),
    "_": (1,),
    "Plural": (1, 2),
    "ngettext": (1, 2),
}


def extracted() -> tuple[set[str], set[tuple[str, str]]]:
    with BABEL_CFG.open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: set[str] = set()
    plurals: set[tuple[str, str]] = set()
    for _, _, message, _, _ in (
        found
        for where in (FLOWS_DIR, OPERATORS_DIR, KPI_DEFS)
        for found in extract_from_dir(
            str(where), method_map=method_map, options_map=options_map, keywords=KEYWORDS
        )
    ):
        if isinstance(message, tuple):
            assert len(message) == 2 and all(message), f"odd plural message: {message!r}"
            plurals.add((message[0], message[1]))
        else:
            assert isinstance(message, str), f"odd message: {message!r}"
            found.add(message)
    return found, plurals


_SINGULAR, _PLURAL = extracted()
MSGIDS = sorted(_SINGULAR)
PLURALS = sorted(_PLURAL)


def plural_entries(locale: str) -> dict[tuple[str, str], tuple[str, ...]]:
    """The plural entries of ``locale``'s catalog: (msgid, msgid_plural) -> its forms."""
    return {
        (m.id[0], m.id[1]): tuple(m.string)
        for m in po_catalog(locale)
        if isinstance(m.id, tuple) and not m.fuzzy
    }


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
    assert sorted(set(plural_entries(locale)) - set(PLURALS)) == []


def test_the_flows_and_operator_screens_count_things_with_plural_forms() -> None:
    assert ("{n} ticket", "{n} tickets") in PLURALS
    assert ("{n} answer", "{n} answers") in PLURALS


def test_the_operators_screens_are_in_the_catalogs() -> None:
    assert "👎 Detractor follow-up, ticket #{n} (NPS {score})" in MSGIDS
    assert "{what} by {who}" in MSGIDS


@pytest.mark.parametrize("locale", LOCALES)
def test_every_plural_has_each_form_its_language_needs(locale: str) -> None:
    forms = po_catalog(locale).num_plurals
    entries = plural_entries(locale)
    wrong = {
        p: entries.get(p) for p in PLURALS if len([f for f in entries.get(p, ()) if f]) != forms
    }
    assert wrong == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_forms_keep_exactly_the_placeholders_of_the_source(locale: str) -> None:
    wrong = {
        p: f for p, f in plural_entries(locale).items() if any(fields(x) != fields(p[0]) for x in f)
    }
    assert wrong == {}


@pytest.mark.parametrize("text", [*MSGIDS, *(p for pair in PLURALS for p in pair)])
def test_no_message_counts_with_a_bracketed_plural(text: str) -> None:
    assert not re.search(r"\w\((s|es|ns)\)", text), "use Plural(...) / ngettext"


@pytest.mark.parametrize(
    ("locale", "n", "expected"),
    [
        ("en", 1, "1 ticket"),
        ("en", 0, "0 tickets"),
        ("pt-BR", 0, "0 chamado"),  # Portuguese counts zero as singular
        ("pt-BR", 1, "1 chamado"),
        ("pt-BR", 2, "2 chamados"),
        ("es", 0, "0 incidencias"),
        ("es", 1, "1 incidencia"),
        ("ca", 5, "5 incidències"),
    ],
)
def test_a_count_takes_the_form_its_languages_plural_rule_gives(
    locale: str, n: int, expected: str
) -> None:
    assert ngettext("{n} ticket", "{n} tickets", n, locale) == expected


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
