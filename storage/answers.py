"""Survey answers given in the chat: the score, its reason, the follow-up answered.

Plain statements by key, not ORM objects: an answer reads one follow-up's owner and
writes a row or two, and loading the follow-up as an object to change two columns
cost a unit-of-work flush per answer (about a third of the engine's time on a score,
measured with py-spy on ``benchmarks/engine.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.conversations import insert_ignoring_duplicates
from storage.models import FollowUp, SurveyResponse
from storage.sqlite.prepared import Prepared, execute, fetch
from storage.sqlite.write_buffer import write

# A follow-up in one of these states becomes "answered"; a skipped one stays skipped.
ANSWERABLE = ("pending", "sent", "reminded", "expired")

_OWNER = Prepared(
    select(FollowUp.customer_id, FollowUp.order_id).where(FollowUp.id == bindparam("fid"))
)
_RECORD_SCORE = Prepared(per_dialect=insert_ignoring_duplicates(SurveyResponse))
_RECORD_REASON = Prepared(
    update(SurveyResponse)
    .where(
        SurveyResponse.dedup_key == bindparam("b_key"),
        SurveyResponse.customer_id == bindparam("b_customer"),
    )
    .values(
        reason=bindparam("b_reason"),
        theme=bindparam("b_theme"),
        theme_source=bindparam("b_source"),
    )
)
_ANSWERED = Prepared(
    update(FollowUp)
    .where(FollowUp.id == bindparam("b_id"), FollowUp.customer_id == bindparam("b_customer"))
    .values(
        answered_at=func.coalesce(
            FollowUp.answered_at, bindparam("b_at", type_=FollowUp.answered_at.type)
        ),
        # Equalities, not IN: an IN list is expanded per execution, and this statement
        # runs as one executemany with the batch's other answers.
        status=case(
            (or_(*(FollowUp.status == state for state in ANSWERABLE)), "answered"),
            else_=FollowUp.status,
        ),
    )
)


def dedup_key(followup_id: int | None, kind: str, conversation_id: int, now: datetime) -> str:
    """The answer's idempotency key: one answer of each kind per follow-up.

    A second press of the same button records nothing. Without a follow-up the
    answer is keyed to the chat and the moment.
    """
    if followup_id is not None:
        return f"chat:f{followup_id}:{kind}"
    return f"chat:c{conversation_id}:{kind}:{now.isoformat()}"


async def record_score(
    session: AsyncSession,
    *,
    customer_id: int,
    followup_id: int | None,
    conversation_id: int,
    kind: str,
    score: int,
    now: datetime,
) -> bool:
    """Record an NPS or CSAT answer and mark its follow-up answered.

    False, recording nothing, when the follow-up belongs to another customer. A
    follow-up that no longer exists leaves the answer without one.
    """
    owner: tuple[int, int] | None = None
    if followup_id is not None:
        found = await fetch(session, _OWNER, {"fid": followup_id})
        owner = (found[0][0], found[0][1]) if found else None
    if owner is not None and owner[0] != customer_id:
        return False
    row = {
        "dedup_key": dedup_key(followup_id, kind, conversation_id, now),
        "customer_id": customer_id,
        "order_id": owner[1] if owner is not None else None,
        "followup_id": followup_id if owner is not None else None,
        "kind": kind,
        "score": score,
        "source": "chat",
        "answered_at": now,
    }
    await execute(session, _RECORD_SCORE, row)
    if owner is not None and followup_id is not None:
        await mark_answered(session, followup_id, customer_id, now)
    return True


async def record_reason(
    session: AsyncSession, customer_id: int, key: str, reason: str, theme: str | None = None
) -> None:
    """Attach the reason, and its theme, to the customer's answer keyed ``key`` (the NPS one)."""
    params = {
        "b_key": key,
        "b_customer": customer_id,
        "b_reason": reason,
        "b_theme": theme,
        "b_source": None if theme is None else "model",
    }
    await execute(session, _RECORD_REASON, params)


async def mark_answered(
    session: AsyncSession, followup_id: int, customer_id: int, now: datetime
) -> None:
    """The customer's follow-up is answered (the first answer's time is kept).

    Buffered with the transaction's other writes: nothing in the update reads it back.
    Another customer's follow-up is left as it is.
    """
    await write(session, _ANSWERED, {"b_id": followup_id, "b_customer": customer_id, "b_at": now})
