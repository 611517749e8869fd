"""What the scenario suites of every channel do alike: invite as the scheduler would, and
read the survey answers back."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import select

from bot.app import Database
from storage.models import FollowUp, SurveyResponse


class Stack(Protocol):
    """A running bot as the tests build it (``BotStack``, ``WhatsAppStack``)."""

    db: Database
    messenger: Any
    engine: Any

    async def flush(self) -> None: ...


async def invite(stack: Stack, followup_id: int) -> None:
    """What the scheduler does when the follow-up is due: the survey invitation."""
    async with stack.db.uow() as uow:
        followup = await uow.session.get(FollowUp, followup_id)
        assert followup is not None
        assert await stack.messenger.start_survey(uow.session, followup, stack.engine.clock())
        await uow.commit()
    await stack.flush()


async def answers(db: Database) -> dict[str, tuple[int, str | None]]:
    async with db.uow() as uow:
        rows = await uow.session.scalars(select(SurveyResponse))
        return {r.kind: (r.score, r.reason) for r in rows}
