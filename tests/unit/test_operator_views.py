"""The pieces of operators' screens: periods, durations, comparisons, the chart file."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.operators.chart import (
    HEIGHT_PX,
    WIDTH_PX,
    build_figure,
    chart_path,
    chart_spec,
    render_chart,
    theme_shares,
)
from bot.operators.kpi_view import change, duration, summary_text
from bot.operators.periods import BadPeriod, parse_period
from storage.read.sla import SlaSummary

SP = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def test_a_period_of_days_ends_now_and_the_previous_one_has_the_same_length() -> None:
    period = parse_period("7d", NOW, SP)
    assert (period.since, period.until) == (NOW - timedelta(days=7), NOW)
    assert (period.previous.since, period.previous.until) == (
        NOW - timedelta(days=14),
        period.since,
    )
    assert parse_period("", NOW, SP).days == 30


def test_a_date_range_is_whole_local_days_both_ends_included() -> None:
    period = parse_period("2026-03-01..2026-03-07", NOW, SP)
    assert period.since == datetime(2026, 3, 1, 3, 0, tzinfo=UTC)  # midnight in São Paulo
    assert period.until == datetime(2026, 3, 8, 3, 0, tzinfo=UTC)
    assert period.previous.since == datetime(2026, 2, 22, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["yesterday", "0d", "2026-03-07..2026-03-01", "2026-02-30..2026-03-01"]
)
def test_other_periods_are_refused(text: str) -> None:
    with pytest.raises(BadPeriod):
        parse_period(text, NOW, SP)


def test_durations_read_like_a_person_would_write_them() -> None:
    assert [duration(s) for s in (None, 42, 600, 5400, 93600)] == [
        "—",
        "42s",
        "10m",
        "1h 30m",
        "1d 2h",
    ]


def test_changes_show_an_arrow_and_the_difference() -> None:
    assert change(42.0, 37.0) == " ▲ +5.0"
    assert change(3.0, 5.0) == " ▼ -2.0"
    assert change(4.0, 4.0) == " ="
    assert change(None, 4.0) == "" and change(4.0, None) == ""


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


SPEC = {
    "kind": "weekly_scores",
    "title": "NPS and CSAT by week",
    "weeks": ["2026-02-02", "2026-02-09", "2026-02-16", "2026-02-23"],
    "nps": [20.0, None, 50.0, -10.0],
    "nps_responses": [5, 0, 2, 10],
    "csat": [4.2, 3.0, None, 3.5],
    "csat_responses": [5, 1, 0, 4],
}


def test_the_chart_is_a_png_of_the_expected_size_and_not_blank(tmp_path: Path) -> None:
    from matplotlib.image import imread

    path = render_chart(SPEC, chart_path(SPEC, str(tmp_path)))
    assert png_size(path) == (WIDTH_PX, HEIGHT_PX)
    pixels = imread(path)
    assert pixels.shape[:2] == (HEIGHT_PX, WIDTH_PX)
    assert len({tuple(p) for p in pixels.reshape(-1, pixels.shape[2])[::97]}) > 10
    assert chart_path(SPEC, str(tmp_path)) == path  # the same data, the same file


def test_the_chart_plots_exactly_the_numbers_it_was_given() -> None:
    import math

    figure = build_figure(SPEC)
    nps_axes, csat_axes = figure.axes
    nps = [None if math.isnan(v) else v for v in nps_axes.lines[0].get_ydata()]
    csat = [None if math.isnan(v) else v for v in csat_axes.lines[0].get_ydata()]
    assert nps == SPEC["nps"] and csat == SPEC["csat"]
    labels = [t.get_text() for t in nps_axes.get_xticklabels()]
    assert labels == ["02-02", "02-09", "02-16", "02-23"]


DETRACTORS = {  # theme_kpis' "detractors": most frequent first, as kpi --json gives it
    "late_delivery": {"share_pct": 60.0, "count": 3, "change_pts": 10.0},
    "low_quality": {"share_pct": 40.0, "count": 2, "change_pts": None},
}


def test_the_chart_draws_the_detractors_theme_shares(tmp_path: Path) -> None:
    spec = chart_spec([], "t", DETRACTORS, "pt-BR")
    assert theme_shares(spec) == [("late_delivery", 60.0), ("low_quality", 40.0)]
    assert [t["label"] for t in spec["themes"]] == ["Atraso na entrega", "Baixa qualidade"]
    assert theme_shares(chart_spec([], "t")) == [] and "themes" not in chart_spec([], "t", {})
    assert (spec["themes_title"], spec["themes_axis"]) == (
        "Temas dos detratores",
        "% das respostas deles com tema",
    )
    with_themes = {**SPEC, **{k: v for k, v in spec.items() if k.startswith("themes")}}
    figure = build_figure(with_themes)
    _, bars, _ = figure.axes
    widths = sorted(patch.get_width() for patch in bars.patches)
    assert widths == [40.0, 60.0]
    assert [t.get_text() for t in bars.get_yticklabels()] == [
        "Baixa qualidade",
        "Atraso na entrega",
    ]  # bottom-up: the largest share on top
    path = render_chart(with_themes, chart_path(with_themes, str(tmp_path)))
    assert png_size(path) == (WIDTH_PX, HEIGHT_PX)
    assert path != chart_path(SPEC, str(tmp_path))  # other data, another file


NO_SLA = SlaSummary(0, 0, 0, 0, None, None, None)


def summary(lang: str, answers: int) -> str:
    figures: dict[str, Any] = {
        "nps": {"score": 100.0, "promoters": answers, "responses": answers},
        "csat": {"mean": 5.0, "responses": answers},
        "followups": {"sent": answers, "answered": answers},
    }
    return summary_text(
        "x",
        figures,
        {},
        NO_SLA,
        NO_SLA,
        lang=lang,
        currency="BRL",
        hours="mon-fri 09:00-18:00",
        first_target="4h",
        resolution_target="2d",
    )


@pytest.mark.parametrize(
    ("lang", "one", "two"),
    [
        ("en", ["(1 answer)", "of 1 follow-up)"], ["(2 answers)", "of 2 follow-ups)"]),
        ("pt-BR", ["(1 resposta)", "de 1 acompanhamento)"], ["(2 respostas)", "2 acompanhamentos"]),
        ("es", ["(1 respuesta)", "de 1 seguimiento)"], ["(2 respuestas)", "2 seguimientos"]),
        ("ca", ["(1 resposta)", "de 1 seguiment)"], ["(2 respostes)", "2 seguiments"]),
    ],
)
def test_the_kpi_summary_counts_in_the_operators_language_and_its_plural_forms(
    lang: str, one: list[str], two: list[str]
) -> None:
    assert [part for part in one if part not in summary(lang, 1)] == []
    assert [part for part in two if part not in summary(lang, 2)] == []


def test_the_kpi_summary_is_written_in_the_operators_language() -> None:
    text = summary("pt-BR", 3)
    assert "promotores 3, neutros 0, detratores 0" in text
    assert "SLA em horário comercial (mon-fri 09:00-18:00)" in text
    assert "promoters" not in text and "SLA in business hours" not in text


def test_the_chart_axes_are_in_the_operators_language() -> None:
    spec = chart_spec([], "t", None, "es")
    figure = build_figure({**SPEC, **{k: v for k, v in spec.items() if k.endswith("_axis")}})
    nps, csat = figure.axes
    assert nps.get_ylabel() == "NPS (-100 a 100)"
    assert nps.get_xlabel() == "semana que empieza (MM-DD)"
    assert csat.get_ylabel() == "CSAT (1 a 5)"
