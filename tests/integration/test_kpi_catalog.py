"""A KPI is defined once (storage.read.kpi_defs): every figure of ``postsale kpi --json``
has a label, unit and definition, and the CLI table, /kpi and /kpi help show each one,
written by the same formatters."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import durations
from bot.app import Database
from bot.entrypoints.commands import kpi as kpi_command
from bot.i18n import LOCALES, catalog, translate
from bot.operators import alerts, kpi_format, kpi_view, ticket_view
from bot.operators.kpi_view import LINES, definitions_text, summary_text
from storage.read.kpi import compute_kpis
from storage.read.kpi_defs import BY_KEY, KPIS, definitions
from storage.read.sla import SlaSummary

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
INTERFACE = Path(__file__).parents[2] / "docs" / "interface.md"
NO_SLA = SlaSummary(0, 0, 0, 0, None, None, None)


def leaves(figures: dict[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, item in figures.items():
        path = f"{prefix}{key}"
        found |= leaves(item, path + ".") if isinstance(item, dict) else {path}
    return found


COVERED = {key for k in KPIS for key in (k.key, *k.parts)}
# Maps keyed by theme name (storage/read/theme_kpi.py): their keys are the data, their
# figures defined once there, not one KPI each.
BY_THEME = {"themes"}


async def test_every_figure_of_the_json_object_belongs_to_a_defined_kpi(db: Database) -> None:
    async with db.uow() as uow:
        figures = await compute_kpis(uow.session, None, None, NOW)
    figures.pop("period")
    assert leaves(figures) == COVERED


def test_every_key_the_interface_document_promises_is_defined() -> None:
    block = INTERFACE.read_text("utf-8").split("## `postsale kpi --json`")[1]
    text = re.search(r"```json\n(.*?)```", block, re.S)
    assert text is not None
    promised = json.loads(text.group(1).replace('"ISO or null"', "null"))
    promised.pop("period")
    for key in BY_THEME:
        promised.pop(key)
    assert leaves(promised) <= COVERED


@pytest.mark.parametrize("locale", LOCALES)
def test_every_kpi_has_a_label_a_unit_and_a_definition_in_each_catalog(locale: str) -> None:
    for kpi in KPIS:
        assert catalog(locale).get(kpi.label) and catalog(locale).get(kpi.definition)
        assert kpi.unit in ("score", "mean", "pct", "count", "seconds", "cents")


def distinct_figures() -> dict[str, Any]:
    """A figure for every key, each written differently (so each can be found)."""
    figures: dict[str, Any] = {"period": {"since": None, "until": None}}
    for n, key in enumerate(sorted(COVERED), start=1):
        node = figures
        *path, last = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = 1000 * n + n if BY_KEY.get(key, KPIS[0]).unit != "pct" else 10.0 + n
    return figures


def test_the_cli_table_shows_each_kpi_with_its_label_and_value() -> None:
    figures = distinct_figures()
    text = kpi_command.table(figures, ZoneInfo("America/Sao_Paulo"))
    for kpi in KPIS:
        written = kpi_format.show(kpi, _at(figures, kpi.key))
        assert re.search(rf"  {re.escape(kpi.label)} +{re.escape(written)}   ", text), kpi.key
        assert translate(kpi.definition, "en") in text


@pytest.mark.parametrize("locale", LOCALES)
def test_kpi_in_the_chat_shows_every_kpi_and_its_help_every_definition(locale: str) -> None:
    figures = distinct_figures()
    text = summary_text(
        "30d", figures, figures, NO_SLA, NO_SLA, lang=locale, currency="BRL",
        hours="mon-fri 09:00-18:00", first_target="4h", resolution_target="2d",
    )  # fmt: skip
    shown = {key for keys, _ in LINES for key in keys}
    assert {k.key for k in KPIS} <= shown <= COVERED | BY_THEME
    for kpi in KPIS:
        assert kpi_format.show(kpi, _at(figures, kpi.key), "BRL") in text, kpi.key
    help_text = definitions_text(locale, hours="h", tz="z", first="4h", resolution="2d")
    assert all(translate(d, locale) in help_text for d in definitions())


def test_one_duration_formatter_and_one_dash_everywhere() -> None:
    for module in (kpi_format, kpi_view, kpi_command, alerts, ticket_view):
        assert module.duration is durations.duration
    assert kpi_format.DASH == kpi_view.DASH == durations.NO_VALUE == "—"
    empty = distinct_figures()  # counts, and no data for any figure
    for kpi in KPIS:
        *path, last = kpi.key.split(".")
        _at(empty, ".".join(path))[last] = None
    for key in ("tickets.first_response_s", "tickets.resolution_s"):
        _at(empty, key).update(mean=None, p90=None)
    _at(empty, "tickets.waiting_s")["mean"] = None
    table = kpi_command.table(empty, ZoneInfo("UTC"))
    assert "  NPS  " in table and " —   " in table and " -   " not in table


def _at(figures: dict[str, Any], key: str) -> Any:
    node: Any = figures
    for part in filter(None, key.split(".")):
        node = node[part]
    return node
