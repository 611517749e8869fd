"""Dead updates: what was given up on, with the update's JSON and the error, for operators."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DeadUpdate

MAX_ERROR = 2000  # characters of the error kept: the cause, not a whole traceback


async def record(
    session: AsyncSession,
    *,
    channel: str,
    update_id: str | None,
    raw: Mapping[str, Any],
    error: str,
    now: datetime,
) -> None:
    """Keep ``raw`` as a dead update of ``channel`` (in the caller's transaction)."""
    session.add(
        DeadUpdate(
            channel=channel,
            update_id=update_id,
            raw=dict(raw),
            error=error[:MAX_ERROR],
            failed_at=now,
        )
    )
    await session.flush()


async def count(session: AsyncSession) -> int:
    """How many dead updates there are."""
    return int(await session.scalar(select(func.count(DeadUpdate.id))) or 0)


async def latest(session: AsyncSession, limit: int = 20) -> Sequence[DeadUpdate]:
    """The newest dead updates first."""
    query = select(DeadUpdate).order_by(DeadUpdate.failed_at.desc(), DeadUpdate.id.desc())
    return (await session.scalars(query.limit(limit))).all()
