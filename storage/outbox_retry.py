"""Outbox results beyond sent and failed: unknown outcomes, attachments moved behind,
and failed messages queued again by an operator."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.outbox_body import OutboxBody
from storage.outbox_state import BLOCKED, UNKNOWN, Head


def has_attachment(body: dict[str, Any]) -> bool:
    """A file or a chart (drawn into a photo when sent) goes with the message."""
    try:
        return OutboxBody.from_json(body).has_attachment
    except ValueError:
        return False  # malformed: the sender rejects it, nothing to move


async def mark_unknown(
    session: AsyncSession, message_id: int, reason: str, now: datetime, attempts: int
) -> None:
    """The send may or may not have been delivered: keep it, never send it again."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "queued")
        .values(status=UNKNOWN, failed_at=now, error=reason[:500], attempts=attempts, unknowns=2)
    )


async def move_attachment_behind(
    session: AsyncSession, head: Head, *, attempts: int, error: str, not_before: datetime
) -> dict[str, Any] | None:
    """Queue ``head``'s attachment again behind its chat's queued messages.

    Its text (and buttons) stay in place, to go now: the new body is returned. With no
    text, the whole message moves and None is returned. The moved row keeps the
    original's creation time and deadline, and counts its attempts on.
    """
    body = OutboxBody.from_json(head.body)
    rest = body.without_attachment()
    row = await session.get(OutboxMessage, head.id)
    if row is None or row.status != "queued":
        return None
    await session.execute(
        insert(OutboxMessage).values(
            channel=row.channel,
            chat_id=row.chat_id,
            customer_id=row.customer_id,
            purpose=row.purpose,
            body=body.attachment().to_json() if rest.text else head.body,
            status="queued",
            created_at=row.created_at,
            not_before=not_before,
            attempts=attempts,
            unknowns=0,
            deadline=row.deadline,
            followup_id=row.followup_id,
            error=error[:500],
        )
    )
    if not rest.text:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id == head.id))
        return None
    row.body = rest.to_json()
    return row.body


@dataclass(frozen=True)
class Requeued:
    ids: list[int]
    missing: list[int]  # asked for, but no failed or unknown message has that id


async def requeue_failed(
    session: AsyncSession,
    ids: Collection[int] | None,
    deadline: datetime,
) -> Requeued:
    """Queue failed messages again (``ids``, or with None every failed one not blocked).

    Each keeps its place in its chat's order (its id), starts its attempts afresh and
    may be retried until ``deadline``. Unknown outcomes are queued only when named.
    """
    query = select(OutboxMessage.id)
    if ids is None:
        query = query.where(
            OutboxMessage.status == "failed",
            or_(OutboxMessage.error.is_(None), ~OutboxMessage.error.startswith(BLOCKED)),
        )
    else:
        query = query.where(
            OutboxMessage.id.in_(list(ids)), OutboxMessage.status.in_(("failed", UNKNOWN))
        )
    found = sorted((await session.scalars(query)).all())
    if found:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(found))
            .values(
                status="queued",
                attempts=0,
                unknowns=0,
                not_before=None,
                failed_at=None,
                deadline=deadline,
            )
            .execution_options(synchronize_session=False)
        )
    missing = sorted(set(ids or ()) - set(found))
    return Requeued(found, missing)
