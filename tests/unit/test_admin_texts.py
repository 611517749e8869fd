"""Every text the web admin's templates write is a message id of
``bot.operators.web_texts`` or of the operators' catalogs, so the catalogs' check covers it."""

from __future__ import annotations

import re
from pathlib import Path

import bot.entrypoints.http.admin
from bot.i18n import LOCALES, catalog
from bot.operators.web_texts import PAGE_TEXTS

TEMPLATES = Path(bot.entrypoints.http.admin.__file__).parent / "templates"
LITERAL = re.compile(r'\b_\("((?:[^"\\]|\\.)*)"')


def template_texts() -> set[str]:
    return {m for path in TEMPLATES.glob("*.html") for m in LITERAL.findall(path.read_text())}


def test_the_templates_write_only_listed_texts() -> None:
    found = template_texts()
    assert len(found) > 50
    assert found <= set(PAGE_TEXTS)


def test_every_template_text_is_translated_in_every_catalog() -> None:
    for locale in LOCALES:
        missing = sorted(t for t in template_texts() if not catalog(locale).get(t))
        assert not missing, f"{locale}: {missing}"
