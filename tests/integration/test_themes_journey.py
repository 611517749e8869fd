"""Themes through the real stack (both Telegram libraries, SQLite and PostgreSQL):
detractors give reasons of known themes, the operator's /kpi and ``kpi --json`` show
the shares, and ``/theme`` corrects one (an operator may, a customer may not, an
unknown theme is answered with the list).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Database
from bot.entrypoints.commands import kpi as kpi_cli
from bot.i18n import translate
from bot.operators.chart import build_figure, theme_shares
from flows.staff import REFUSAL
from storage.models import OutboxMessage, SurveyResponse, Ticket
from tests.builders import Clock, customer_with_delivered_order
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import BotStack, telegram_settings
from tests.integration.stack_helpers import invite

OPERATOR = 900


class KeywordTagger:
    """A test fixture standing in for the theme model: fixed keyword rules."""

    RULES = (("late", "late_delivery"), ("broke", "low_quality"), ("fake", "not_as_advertised"))

    def tag(self, text: str) -> str | None:
        if not text.strip():
            return None
        lowered = text.lower()
        return next((theme for word, theme in self.RULES if word in lowered), "other_order")

    def tag_many(self, texts: Sequence[str]) -> list[str | None]:
        return [self.tag(t) for t in texts]


@pytest.fixture
async def stack(
    api: FakeBotApi, db: Database, db_url: str, framework: str
) -> AsyncIterator[BotStack]:
    settings = telegram_settings(
        api.url, framework, operator_ids=[str(OPERATOR)], database_url=db_url
    )
    running = await BotStack(api, settings, db, Clock(), tagger=KeywordTagger()).start()
    try:
        yield running
    finally:
        await running.stop()


REASONS = ("It came late", "Late again, two weeks", "The handle broke", "Late and cold")
# After the CSAT of 2 the chat asks what went wrong: two answer it, two tap Skip.
COMMENTS = {0: "Arrived late, box wet", 2: "The strap broke on day one"}


async def detractors_answer(stack: BotStack, db: Database) -> None:
    for n, reason in enumerate(REASONS):
        chat = 100 + n
        _, _, fid = await customer_with_delivered_order(db, f"c-{n}", chat_id=str(chat))
        assert fid is not None
        await invite(stack, fid)
        await stack.deliver(tg.callback(chat, f"nps:{fid}:{n}"))
        await stack.deliver(tg.message(chat, reason))
        await stack.deliver(tg.callback(chat, f"csat:{fid}:2"))
        comment = COMMENTS.get(n)
        await stack.deliver(
            tg.message(chat, comment) if comment else tg.callback(chat, f"cskip:{fid}")
        )


async def last_text(stack: BotStack, api: FakeBotApi, text: str, chat: int = OPERATOR) -> str:
    await stack.deliver(tg.message(chat, text))
    await stack.flush()
    return api.texts(str(chat))[-1]


async def test_the_detractors_themes_in_kpi_and_a_correction(
    stack: BotStack, api: FakeBotApi, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await detractors_answer(stack, db)
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(SurveyResponse.kind, SurveyResponse.reason, SurveyResponse.theme)
        )
        tagged = {(kind, reason): theme for kind, reason, theme in rows.all() if reason}
        described = dict((await uow.session.execute(select(Ticket.description, Ticket.id))).all())
    assert tagged == {("nps", r): KeywordTagger().tag(r) for r in REASONS} | {
        ("csat", c): KeywordTagger().tag(c) for c in COMMENTS.values()
    }
    stack.engine.clock.advance(hours=1)  # the answers are before now, inside "last 30 days"

    await stack.deliver(tg.message(OPERATOR, "/kpi"))
    await stack.flush()
    summary = next(t for t in api.texts(str(OPERATOR)) if t.startswith("📊"))
    assert "Detractors' top themes: Late delivery 75.0% · Low quality 25.0%" in summary

    themes = await last_text(stack, api, "/kpi themes")
    assert "Detractors (NPS 0-6):\n  Late delivery 75.0% (3)\n  Low quality 25.0% (1)\n" in themes
    assert "CSAT 1-2:\n  Late delivery 50.0% (1)\n  Low quality 50.0% (1)" in themes

    args = argparse.Namespace(since=None, until=None, json=True)
    capsys.readouterr()
    assert await kpi_cli.run(args, stack.settings) == 0
    out = capsys.readouterr().out
    detractors: dict[str, Any] = json.loads(out)["themes"]["detractors"]
    assert set(json.loads(out)["themes"]["csat_low"]) == {"late_delivery", "low_quality"}
    assert detractors == {
        "late_delivery": {"share_pct": 75.0, "count": 3, "change_pts": None},
        "low_quality": {"share_pct": 25.0, "count": 1, "change_pts": None},
    }
    # /kpi's chart carries the same shares, and draws them.
    async with db.uow() as uow:
        bodies = (await uow.session.scalars(select(OutboxMessage.body))).all()
    spec = next(b["chart"] for b in bodies if b.get("chart"))
    assert theme_shares(spec) == [(n, f["share_pct"]) for n, f in detractors.items()]
    bars = build_figure(spec).axes[1]
    assert sorted(p.get_width() for p in bars.patches) == [25.0, 75.0]

    # A customer may not; an unknown theme gets the list; the operator corrects.
    refused = await last_text(stack, api, "/theme 1 low_quality", chat=100)
    assert refused == translate(REFUSAL, "en")
    unknown = await last_text(stack, api, "/theme 1 weather")
    assert unknown.startswith("There is no theme 'weather'. The themes:")
    assert "  not_as_advertised - Not as advertised" in unknown
    number = described["Late and cold"]
    before = await last_text(stack, api, f"/ticket {number}")
    assert f"Theme: Late delivery (/theme {number} NAME corrects it)" in before
    done = await last_text(stack, api, f"/theme {number} not_as_advertised")
    assert done == (
        f"Ticket #{number} is now about: Not as advertised (before: Late delivery). "
        "So is the NPS answer that opened it."
    )
    after = await last_text(stack, api, f"/ticket {number}")
    assert "Theme: Not as advertised (set by an operator)" in after
    await stack.deliver(tg.message(OPERATOR, "/kpi"))
    await stack.flush()
    summary = [t for t in api.texts(str(OPERATOR)) if t.startswith("📊")][-1]
    assert (
        "Detractors' top themes: Late delivery 50.0% · Not as advertised 25.0% · Low quality 25.0%"
    ) in summary  # equal shares in the order of flows.themes


async def test_the_shipped_model_tags_reasons_as_they_arrive(
    api: FakeBotApi, db: Database, db_url: str, framework: str
) -> None:
    """No tagger given: the stack is built as ``postsale run`` builds it, with the model
    shipped in ``bot/themes`` (these texts are written here, not taken from its examples)."""
    settings = telegram_settings(api.url, framework, database_url=db_url, default_locale="pt-BR")
    stack = await BotStack(api, settings, db, Clock()).start()
    reasons = {
        200: ("o pedido chegou com quase duas semanas de atraso", "late_delivery"),
        201: ("veio so uma das tres pecas que comprei, faltou o resto", "partial_delivery"),
    }
    try:
        for chat, (reason, _) in reasons.items():
            _, _, fid = await customer_with_delivered_order(db, f"m-{chat}", chat_id=str(chat))
            assert fid is not None
            await invite(stack, fid)
            await stack.deliver(tg.callback(chat, f"nps:{fid}:2"))
            await stack.deliver(tg.message(chat, reason))
    finally:
        await stack.stop()
    async with db.uow() as uow:
        rows = (
            await uow.session.scalars(select(SurveyResponse).where(SurveyResponse.kind == "nps"))
        ).all()
    assert {r.reason: (r.theme, r.theme_source) for r in rows} == {
        reason: (theme, "model") for reason, theme in reasons.values()
    }
