"""What the scheduler needs of the messenger, and what one of its passes did."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FollowUp


class SurveyStarter(Protocol):
    """What the scheduler needs to write to customers (``bot.engine.messenger.Messenger``)."""

    async def start_survey(self, session: AsyncSession, followup: FollowUp, now: datetime) -> bool:
        """Queue the invitation; False when the customer has no linked chat."""
        ...

    async def remind(self, session: AsyncSession, followup: FollowUp, now: datetime) -> bool: ...

    async def expire(self, session: AsyncSession, followup: FollowUp, now: datetime) -> None: ...


@dataclass
class TickReport:
    """What one pass did."""

    planned: int = 0
    sent: int = 0
    deferred: int = 0  # due, but outside the customer's contact window: moved
    skipped: Counter[str] = field(default_factory=Counter)
    reminded: int = 0
    expired: int = 0
    waiting_for_link: int = 0
    errors: int = 0
    backlog: bool = False  # planning stopped at the pass's limit: more orders wait

    @property
    def queued_messages(self) -> bool:
        return bool(self.sent or self.reminded or self.expired)

    def __str__(self) -> str:
        skipped = ", ".join(f"{k}={v}" for k, v in sorted(self.skipped.items())) or "0"
        return (
            f"planned={self.planned} sent={self.sent} deferred={self.deferred} "
            f"skipped[{skipped}] reminded={self.reminded} expired={self.expired} "
            f"waiting_for_link={self.waiting_for_link} errors={self.errors}"
        )


@dataclass
class Sweep:
    """A planning sweep in progress: what it reads, and where it stands."""

    full: bool
    since: datetime | None
    mark: datetime | None
    after_id: int = 0
