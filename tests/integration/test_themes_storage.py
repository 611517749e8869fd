"""Themes in storage (SQLite and PostgreSQL): tagged on record and at import, the theme
shares and their changes over two periods from rows inserted here, operators'
corrections kept by a retag and by a new import, the corrected pairs for training.

The period is March 2026 (UTC); the previous one of equal length is [2026-01-29, 03-01).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.api import import_responses_file
from bot.app import Database
from bot.settings import Settings
from storage import answers, tickets
from storage.models import Customer, Order, SurveyResponse, ThemeCorrection, Ticket
from storage.read.kpi import compute_kpis
from storage.themes import correct_ticket_theme, corrected_texts, retag

SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = datetime(2026, 4, 1, tzinfo=UTC)
_keys = itertools.count()


class KeywordTagger:
    """A test fixture, not a model: the first rule whose word is in the text wins."""

    RULES = (("late", "late_delivery"), ("broke", "low_quality"), ("love", "satisfied"))

    def __init__(self, fallback: str | None = "other_order") -> None:
        self.fallback = fallback

    def tag(self, text: str) -> str | None:
        if not text.strip():
            return None
        lowered = text.lower()
        return next((theme for word, theme in self.RULES if word in lowered), self.fallback)

    def tag_many(self, texts: Sequence[str]) -> list[str | None]:
        return [self.tag(t) for t in texts]


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


def answer(kind: str, score: int, when: datetime, theme: str | None) -> SurveyResponse:
    return SurveyResponse(
        dedup_key=f"k{next(_keys)}",
        kind=kind,
        score=score,
        reason=None if theme is None else f"about {theme}",
        theme=theme,
        theme_source=None if theme is None else "model",
        source="import",
        answered_at=when,
    )


async def test_shares_and_changes_over_two_periods(db: Database) -> None:
    rows = [
        # March: detractors 3 late, 1 low quality; passives 1 other; promoters none themed.
        *(answer("nps", 3, at(3, d), "late_delivery") for d in (2, 3, 4)),
        answer("nps", 6, at(3, 5), "low_quality"),
        answer("nps", 0, at(3, 6), None),  # no theme: not in the shares
        answer("nps", 8, at(3, 7), "other_order"),
        answer("nps", 10, at(3, 8), None),
        answer("csat", 2, at(3, 9), "late_delivery"),
        answer("csat", 3, at(3, 9), "low_quality"),  # CSAT 3 is not low
        # February (previous period): detractors 1 late, 3 low quality; no passives.
        answer("nps", 1, at(2, 10), "late_delivery"),
        *(answer("nps", 5, at(2, d), "low_quality") for d in (11, 12, 13)),
        answer("csat", 1, at(2, 14), "late_delivery"),
        answer("nps", 2, at(1, 10), "satisfied"),  # before the previous period
    ]
    async with db.uow() as uow:
        uow.session.add_all(rows)
        await uow.commit()
    async with db.uow() as uow:
        themes = (await compute_kpis(uow.session, SINCE, UNTIL, at(4, 10)))["themes"]
        all_time = (await compute_kpis(uow.session, None, None, at(4, 10)))["themes"]
    assert themes["detractors"] == {
        "late_delivery": {"share_pct": 75.0, "count": 3, "change_pts": 50.0},
        "low_quality": {"share_pct": 25.0, "count": 1, "change_pts": -50.0},
    }
    # No passive answer had a theme in February: no change to tell.
    assert themes["passives"] == {
        "other_order": {"share_pct": 100.0, "count": 1, "change_pts": None}
    }
    assert themes["promoters"] == {}
    assert themes["csat_low"] == {
        "late_delivery": {"share_pct": 100.0, "count": 1, "change_pts": 0.0}
    }
    # All time: every themed detractor, January's too; no change to tell.
    assert all_time["detractors"] == {
        "low_quality": {"share_pct": 44.4, "count": 4, "change_pts": None},
        "late_delivery": {"share_pct": 44.4, "count": 4, "change_pts": None},
        "satisfied": {"share_pct": 11.1, "count": 1, "change_pts": None},
    }
    assert list(all_time["detractors"]) == ["late_delivery", "low_quality", "satisfied"]


async def _customer_ticket(db: Database, tagger: KeywordTagger) -> tuple[int, int]:
    """A detractor's answer with its reason and the ticket it opened, tagged on record."""
    async with db.uow() as uow:
        s = uow.session
        customer = Customer(external_id="c1", created_at=at(3, 1))
        s.add(customer)
        await s.flush()
        await answers.record_score(
            s, customer_id=customer.id, followup_id=None, conversation_id=1,
            kind="nps", score=2, now=at(3, 2),
        )  # fmt: skip
        key = answers.dedup_key(None, "nps", 1, at(3, 2))
        reason = "It came late and broke"
        await answers.record_reason(s, customer.id, key, reason, tagger.tag(reason))
        ticket = await tickets.open_ticket(
            s, customer_id=customer.id, order_id=None, source="detractor", category="detractor",
            description=reason, now=at(3, 2), theme=tagger.tag(reason),
        )  # fmt: skip
        await uow.commit()
        return customer.id, ticket.id


async def test_tagged_on_record_and_corrections_kept_by_retag(db: Database) -> None:
    tagger = KeywordTagger()
    _, ticket_id = await _customer_ticket(db, tagger)
    async with db.uow() as uow:
        stored = (await uow.session.execute(select(SurveyResponse))).scalar_one()
        ticket = await uow.session.get(Ticket, ticket_id)
        assert ticket is not None
        assert (stored.theme, stored.theme_source) == ("late_delivery", "model")
        assert (ticket.theme, ticket.theme_source) == ("late_delivery", "model")
        old, corrected = await correct_ticket_theme(
            uow.session, ticket, "low_quality", "op:7", at(3, 3)
        )
        assert old == "late_delivery" and corrected is not None
        await uow.commit()
    async with db.uow() as uow:
        s = uow.session
        s.add(answer("nps", 9, at(3, 4), "other_order"))  # tagged by an older model
        s.add(SurveyResponse(dedup_key="x", kind="csat", score=5, reason="I love it",
                             source="import", answered_at=at(3, 4)))  # fmt: skip
        await uow.commit()
    counts, kept = await retag(db.sessions, KeywordTagger(fallback="other_delivery").tag_many, 1)
    # "about other_order" falls back; "I love it" is satisfied; the corrected two are kept.
    assert counts == {"other_delivery": 1, "satisfied": 1}
    assert kept == 2
    async with db.uow() as uow:
        s = uow.session
        themes = dict((await s.execute(select(SurveyResponse.reason, SurveyResponse.theme))).all())
        assert themes == {
            "It came late and broke": "low_quality",
            "about other_order": "other_delivery",
            "I love it": "satisfied",
        }
        assert (await s.get(Ticket, ticket_id)).theme == "low_quality"  # type: ignore[union-attr]
        fixes = (await s.execute(select(ThemeCorrection))).scalars().all()
        assert sorted((f.old_theme, f.new_theme, f.actor, f.ticket_id is None) for f in fixes) == [
            ("late_delivery", "low_quality", "op:7", False),
            ("late_delivery", "low_quality", "op:7", True),
        ]
        pairs = [pair async for pair in corrected_texts(s)]
    assert pairs == [("It came late and broke", "low_quality")] * 2


async def test_import_tags_comments_and_keeps_corrections(db: Database, tmp_path: Path) -> None:
    async with db.uow() as uow:
        customer = Customer(external_id="c1", created_at=at(1, 1))
        uow.session.add(customer)
        await uow.session.flush()
        when = at(1, 2)
        order = Order(external_id="o1", customer_id=customer.id, total_cents=100,
                      purchased_at=when, created_at=when, updated_at=when)  # fmt: skip
        uow.session.add(order)
        await uow.commit()
    path = tmp_path / "responses.csv"
    path.write_text(
        "response_id,customer_id,order_id,kind,score,comment,answered_at\n"
        "r1,c1,o1,nps,3,Arrived late,2026-03-02T10:00:00Z\n"
        "r2,c1,o1,csat,1,It broke,2026-03-02T10:00:00Z\n"
        "r3,c1,o1,nps,9,,2026-03-03T10:00:00Z\n"
    )
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    tag_many = KeywordTagger().tag_many
    report = await import_responses_file(db, path, settings, tag_many=tag_many)
    assert report.added == 3
    async with db.uow() as uow:
        rows = (await uow.session.execute(select(SurveyResponse))).scalars().all()
        got = {r.dedup_key: (r.theme, r.theme_source) for r in rows}
        assert got == {
            "import:r1": ("late_delivery", "model"),
            "import:r2": ("low_quality", "model"),
            "import:r3": (None, None),
        }
        first = next(r for r in rows if r.dedup_key == "import:r1")
        first.theme, first.theme_source = "other_delivery", "operator"
        await uow.commit()
    again = await import_responses_file(db, path, settings, tag_many=tag_many)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    async with db.uow() as uow:
        kept = await uow.session.scalar(
            select(SurveyResponse.theme).where(SurveyResponse.dedup_key == "import:r1")
        )
    assert kept == "other_delivery"
