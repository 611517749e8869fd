"""Survey answers written by key (storage.answers), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.app import Database
from storage import answers
from storage.models import FollowUp, SurveyResponse
from tests.builders import T0, customer_with_delivered_order


async def _followup(db: Database, fid: int) -> FollowUp:
    async with db.uow() as uow:
        found = await uow.session.get(FollowUp, fid)
        assert found is not None
        return found


async def _responses(db: Database) -> list[tuple[int | None, int | None, int | None, str, int]]:
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(
                SurveyResponse.customer_id,
                SurveyResponse.order_id,
                SurveyResponse.followup_id,
                SurveyResponse.kind,
                SurveyResponse.score,
            ).order_by(SurveyResponse.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def _score(db: Database, customer: int, fid: int | None, kind: str, score: int) -> bool:
    async with db.uow(small=True) as uow:  # as the engine runs it: writes buffered
        recorded = await answers.record_score(
            uow.session,
            customer_id=customer,
            followup_id=fid,
            conversation_id=1,
            kind=kind,
            score=score,
            now=T0 + timedelta(minutes=5),
        )
        await uow.commit()
        return recorded


async def _mark_answered(db: Database, fid: int, customer: int, at: datetime) -> None:
    async with db.uow() as uow:
        await answers.mark_answered(uow.session, fid, customer, at)
        await uow.commit()


async def test_a_score_is_recorded_with_its_order_and_the_follow_up_is_answered(
    db: Database,
) -> None:
    customer, [order], fid = await customer_with_delivered_order(db)
    assert fid is not None
    assert await _score(db, customer, fid, "nps", 9)
    assert await _responses(db) == [(customer, order, fid, "nps", 9)]
    followup = await _followup(db, fid)
    assert (followup.status, followup.answered_at) == ("answered", T0 + timedelta(minutes=5))


async def test_a_second_answer_of_a_kind_records_nothing_and_keeps_the_first_time(
    db: Database,
) -> None:
    customer, _, fid = await customer_with_delivered_order(db)
    assert fid is not None
    await _score(db, customer, fid, "nps", 9)
    await _mark_answered(db, fid, customer, T0 + timedelta(hours=3))
    assert [r[-1] for r in await _responses(db)] == [9]
    assert await _score(db, customer, fid, "nps", 2)  # accepted, and ignored as a repeat
    assert [r[-1] for r in await _responses(db)] == [9]
    assert (await _followup(db, fid)).answered_at == T0 + timedelta(minutes=5)


async def test_another_customers_follow_up_is_neither_answered_nor_scored(db: Database) -> None:
    _, _, theirs = await customer_with_delivered_order(db, "c-1", chat_id="100")
    intruder, _, _ = await customer_with_delivered_order(db, "c-2", chat_id="200")
    assert theirs is not None
    assert not await _score(db, intruder, theirs, "nps", 0)
    await _mark_answered(db, theirs, intruder, T0)
    assert await _responses(db) == []
    followup = await _followup(db, theirs)
    assert (followup.status, followup.answered_at) == ("sent", None)


async def test_a_skipped_follow_up_keeps_its_status(db: Database) -> None:
    customer, _, fid = await customer_with_delivered_order(db)
    assert fid is not None
    async with db.uow() as uow:
        await uow.session.execute(update(FollowUp).values(status="skipped"))
        await uow.commit()
    await _score(db, customer, fid, "csat", 5)
    followup = await _followup(db, fid)
    assert (followup.status, followup.answered_at) == ("skipped", T0 + timedelta(minutes=5))


async def test_a_score_without_a_follow_up_or_with_a_vanished_one_is_kept_alone(
    db: Database,
) -> None:
    customer, _, _ = await customer_with_delivered_order(db)
    assert await _score(db, customer, None, "csat", 4)
    assert await _score(db, customer, 99_999, "nps", 7)
    assert await _responses(db) == [
        (customer, None, None, "csat", 4),
        (customer, None, None, "nps", 7),
    ]


async def test_the_reason_joins_the_customers_own_answer_only(db: Database) -> None:
    customer, _, fid = await customer_with_delivered_order(db)
    other, _, _ = await customer_with_delivered_order(db, "c-2", chat_id="200")
    assert fid is not None
    await _score(db, customer, fid, "nps", 4)
    key = answers.dedup_key(fid, "nps", 1, T0)
    async with db.uow() as uow:
        await answers.record_reason(uow.session, other, key, "not mine")
        await answers.record_reason(uow.session, customer, key, "late")
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.session.scalar(select(SurveyResponse.reason)) == "late"
