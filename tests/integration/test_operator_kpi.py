"""/kpi in the chat: the figures of ``compute_kpis``, the comparison, and the weekly chart."""

from __future__ import annotations

import argparse
import json
import math
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Database
from bot.bootstrap import build_core
from bot.engine.pipeline import Pipeline
from bot.operators.chart import HEIGHT_PX, WIDTH_PX, build_figure, materialize_attachments
from bot.operators.kpi_view import duration, number
from bot.operators.periods import parse_period
from bot.settings import Settings
from storage.models import FollowUp, Ticket
from tests.builders import T0, Clock, customer_with_delivered_order
from tests.integration.staff_helpers import (
    OPERATOR,
    open_complaint,
    press,
    send,
    staff_settings,
    texts,
)

kpi = pytest.importorskip("storage.read.kpi")


async def answer_survey(
    db: Database, engine: Pipeline, clock: Clock, n: int, nps: int, csat: int
) -> None:
    chat = str(100 + n)
    _, _, fid = await customer_with_delivered_order(db, f"c-{n}", chat_id=chat, now=clock())
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, fid)
        assert followup is not None
        await engine.messenger.start_survey(uow.session, followup, clock())
        await uow.commit()
    await send(db, engine, chat, press(f"nps:{fid}:{nps}"))
    await send(db, engine, chat, press(f"skip:{fid}"))
    await send(db, engine, chat, press(f"csat:{fid}:{csat}"))


async def a_month_of_activity(db: Database, settings: Settings) -> tuple[Pipeline, Clock]:
    """Answers over five weeks (one in the previous period) and two handled tickets."""
    clock = Clock(T0 - timedelta(days=40))
    engine = build_core(db, settings, clock).pipeline
    await answer_survey(db, engine, clock, 1, 6, 3)  # the previous period: a detractor
    scores = [(10, 5), (9, 4), (7, 4), (3, 2), (10, 5), (8, 3)]
    for k, (nps, csat) in enumerate(scores):
        clock.now = T0 - timedelta(days=27 - 5 * k)
        await answer_survey(db, engine, clock, 10 + k, nps, csat)
    for minutes, hours in ((30, 5), (150, 28)):
        clock.now = T0 - timedelta(days=3)
        n = await open_complaint(db, engine, "broken", chat="110")
        clock.advance(minutes=minutes)
        await send(db, engine, OPERATOR, f"/reply {n} on it")
        clock.now = T0 - timedelta(days=3) + timedelta(hours=hours)
        await send(db, engine, OPERATOR, f"/resolve {n}")
    clock.now = T0
    return engine, clock


async def test_kpi_shows_the_figures_compute_kpis_gives_for_the_same_data(
    db: Database, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = staff_settings(tmp_path, database_url=db_url)
    engine, clock = await a_month_of_activity(db, settings)

    summary, chart = await send(db, engine, OPERATOR, "/kpi 30d")

    period = parse_period("30d", clock(), settings.operators_tz)
    async with db.uow() as uow:
        now = await kpi.compute_kpis(uow.session, period.since, period.until, clock())
        before = await kpi.compute_kpis(
            uow.session, period.previous.since, period.previous.until, clock()
        )
        weeks = await kpi.weekly_scores(uow.session, period.since, period.until)
    text = summary["text"]
    nps = now["nps"]
    assert f"NPS {number(nps['score'])}" in text
    assert f"promoters {nps['promoters']}, passives {nps['passives']}" in text
    answers = "1 answer" if nps["responses"] == 1 else f"{nps['responses']} answers"
    assert f"detractors {nps['detractors']} ({answers})" in text
    assert f"CSAT {number(now['csat']['mean'], 2)}/5" in text
    assert f"satisfied {number(now['csat']['satisfied_pct'], 1, '%')}" in text
    assert f"Tickets opened {now['tickets']['opened']}" in text
    for key, label in (("first_response_s", "First response"), ("resolution_s", "Resolution")):
        spread = now["tickets"][key]
        assert f"{label}: median {duration(spread['median'])}" in text
        assert f"p90 {duration(spread['p90'])}" in text
    diff = nps["score"] - before["nps"]["score"]
    assert f"{'▲' if diff > 0 else '▼'} {diff:+.1f}" in text
    assert "SLA in business hours" in text and "met" in text
    assert "op:kpi:def" in [b["data"] for row in summary["buttons"] for b in row]
    definitions = texts(await send(db, engine, OPERATOR, press("op:kpi:def")))
    assert "NPS = % promoters (9-10) − % detractors (0-6)" in definitions

    # The chart plots exactly what weekly_scores gives, as a PNG of the expected size.
    spec = chart["chart"]
    assert spec["nps"] == [None if w.nps is None else float(w.nps) for w in weeks]
    assert spec["csat"] == [None if w.csat is None else float(w.csat) for w in weeks]
    assert spec["nps_responses"] == [w.nps_responses for w in weeks]
    figure = build_figure(spec)
    plotted = [None if math.isnan(v) else v for v in figure.axes[0].lines[0].get_ydata()]
    assert plotted == spec["nps"]
    sent = await materialize_attachments(db, chart, settings)
    assert Path(sent["photo_path"]).is_relative_to(tmp_path / "files")
    assert png_size(Path(sent["photo_path"])) == (WIDTH_PX, HEIGHT_PX)

    # And `postsale kpi --json` over the same period agrees.
    try:
        from bot.entrypoints.commands import kpi as kpi_command
    except ImportError:
        return
    parser = argparse.ArgumentParser()
    kpi_command.add_arguments(parser)
    argv = ["--since", period.since.isoformat(), "--until", period.until.isoformat(), "--json"]
    capsys.readouterr()
    await_result = kpi_command.run(parser.parse_args(argv), settings)
    if hasattr(await_result, "__await__"):
        await await_result
    printed = json.loads(capsys.readouterr().out)
    assert printed["nps"] == nps and printed["csat"] == now["csat"]
    assert printed["tickets"]["opened"] == now["tickets"]["opened"]


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


async def test_kpi_shows_the_mean_rating_customers_gave_their_resolved_tickets(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    settings = staff_settings(tmp_path, database_url=db_url)
    clock = Clock(T0 - timedelta(days=2))
    engine = build_core(db, settings, clock).pipeline
    numbers = []
    for n in range(3):
        await customer_with_delivered_order(db, f"r-{n}", chat_id=f"11{n}", now=clock())
        numbers.append(await open_complaint(db, engine, "broken", chat=f"11{n}"))
    async with db.uow() as uow:
        for number, rating in zip(numbers, (5, 4, None), strict=True):
            ticket = await uow.session.get(Ticket, number)
            assert ticket is not None
            ticket.rating = rating
        await uow.commit()
    clock.now = T0

    summary, *_ = await send(db, engine, OPERATOR, "/kpi 7d")

    assert "Ticket rating 4.50/5 (2 ratings, given after resolution)" in summary["text"]
