"""Translations: gettext catalogs per locale, read at run time with Babel.

The ``.po`` files are the source of truth: each is read once and compiled in memory
(Babel's ``write_mo``) into a ``gettext`` catalog, so plural forms follow each
catalog's ``Plural-Forms`` header and no ``.mo`` file has to be built or shipped.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from flows.linking import CONTACT_LABEL
from flows.locales import LOCALES as LOCALES  # re-exported for bot/ and the tests
from flows.replies import Button, Lines, Param, Plural, Say
from storage.outbox_body import BodyButton, OutboxBody

LOCALE_DIR = Path(__file__).parent / "locales"
_BY_LANGUAGE = {"pt": "pt-BR", "en": "en", "es": "es", "ca": "ca"}


def catalog_path(locale: str) -> Path:
    """Where the catalog of ``locale`` lives (``pt-BR`` -> ``locales/pt_BR/...``)."""
    return LOCALE_DIR / locale.replace("-", "_") / "LC_MESSAGES" / "messages.po"


@cache
def po_catalog(locale: str) -> Catalog:
    """The Babel ``Catalog`` of ``locale`` as written in its ``.po`` file."""
    with catalog_path(locale).open("rb") as fh:
        return read_po(fh, locale=locale.replace("-", "_"))


@cache
def catalog(locale: str) -> dict[str, str]:
    """The translations of ``locale``: msgid -> msgstr (fuzzy, empty and plural ones left out)."""
    return {
        m.id: m.string
        for m in po_catalog(locale)
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and not m.fuzzy
    }


@cache
def translations(locale: str) -> Translations:
    """``locale`` as a ``gettext`` catalog (compiled in memory; fuzzy entries left out)."""
    compiled = BytesIO()
    write_mo(compiled, po_catalog(locale))
    compiled.seek(0)
    return Translations(compiled)


def match_locale(code: str | None) -> str | None:
    """One of ``LOCALES`` for a code such as ``pt``, ``pt-br``, ``pt_BR``, ``en-US``."""
    if not code:
        return None
    code = code.strip().replace("_", "-").lower()
    for locale in LOCALES:
        if code == locale.lower():
            return locale
    return _BY_LANGUAGE.get(code.split("-")[0])


def resolve_locale(
    customer_locale: str | None, language_code: str | None, default: str = LOCALES[0]
) -> str:
    """The locale to write in: the customer's choice, else Telegram's language, else default."""
    for code in (customer_locale, language_code, default):
        found = match_locale(code)
        if found is not None:
            return found
    return LOCALES[0]


class _Params(dict[str, Any]):
    """Format parameters that leave an unknown ``{name}`` as it is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(text: str, source: str, locale: str, params: dict[str, Param]) -> str:
    if not params:
        return text
    values = _Params({k: _param(v, locale) for k, v in params.items()})
    try:
        return text.format_map(values)
    except (ValueError, IndexError, AttributeError):  # a broken translation: show the source
        return source.format_map(values)


def _param(value: Param, locale: str) -> Any:
    if isinstance(value, Plural):
        return translate_plural(value, locale)
    if isinstance(value, Lines):
        return "\n".join(translate(m, locale) for m in value.msgids)
    return value


def translate(msgid: str, locale: str, /, **params: Param) -> str:
    """``msgid`` in ``locale`` with ``{name}`` parameters filled in (a ``Plural`` in words)."""
    locale = resolve_locale(locale, None)
    return _fill(catalog(locale).get(msgid, msgid), msgid, locale, params)


def ngettext(singular: str, plural: str, n: int, locale: str, /, **params: Param) -> str:
    """The form of ``singular``/``plural`` that ``n`` takes in ``locale``, ``{n}`` filled in."""
    locale = resolve_locale(locale, None)
    text = translations(locale).ngettext(singular, plural, n)
    source = singular if n == 1 else plural
    return _fill(text, source, locale, {"n": n, **params})


def translate_plural(count: Plural, locale: str) -> str:
    """A ``Plural`` parameter in words, e.g. ``3 tickets`` / ``3 chamados``."""
    return ngettext(count.singular, count.plural, count.n, locale)


def _label(button: Button, locale: str) -> str:
    if not button.translate:
        return button.label
    return translate(button.label, locale, **dict(button.params))


def render(say: Say, locale: str) -> OutboxBody:
    """The outbox body of one ``Say`` (its ``extra`` parts are rendered separately)."""
    text = say.text if say.verbatim else translate(say.text, locale, **dict(say.params))
    return OutboxBody(
        text=text,
        buttons=tuple(
            tuple(BodyButton(_label(b, locale), b.data) for b in row) for row in say.buttons
        ),
        request_contact=say.request_contact,
        contact_label=translate(CONTACT_LABEL, locale) if say.request_contact else None,
        remove_keyboard=say.remove_keyboard,
    )
