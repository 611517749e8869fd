"""What the scheduler needs of the messenger, and what one of its passes did."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DeliveryNotice, FollowUp, Order


class NoticeSender(Protocol):
    """What the delivery notices need of the messenger."""

    async def send_notice(
        self,
        session: AsyncSession,
        notice: DeliveryNotice,
        order: Order,
        now: datetime,
        zone: tzinfo,
    ) -> bool:
        """Queue the notice; False when no chat reaches the customer."""
        ...


class SurveyStarter(NoticeSender, Protocol):
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
    notices: int = 0  # delivery notices queued
    notices_skipped: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    backlog: bool = False  # planning stopped at the pass's limit: more orders wait

    @property
    def queued_messages(self) -> bool:
        return bool(self.sent or self.reminded or self.expired or self.notices)

    @property
    def worth_logging(self) -> bool:
        return bool(
            self.planned
            or self.queued_messages
            or self.skipped
            or self.notices_skipped
            or self.errors
        )

    def __str__(self) -> str:
        return (
            f"planned={self.planned} sent={self.sent} deferred={self.deferred} "
            f"skipped[{_counts(self.skipped)}] reminded={self.reminded} expired={self.expired} "
            f"waiting_for_link={self.waiting_for_link} notices={self.notices} "
            f"notices_skipped[{_counts(self.notices_skipped)}] errors={self.errors}"
        )


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(counter.items())) or "0"


@dataclass
class Sweep:
    """A planning sweep in progress: what it reads, and where it stands."""

    full: bool
    since: datetime | None
    mark: datetime | None
    after_id: int = 0
