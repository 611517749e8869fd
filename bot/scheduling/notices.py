"""Delivery notices in the scheduler's pass: plan them from the orders' news, send the due.

A notice goes inside the customer's contact window (else it waits for the window's
next opening), through the outbox like every other message, in the customer's language.
Before it goes, what it says is checked against the order as it stands now: a "shipped"
notice for an order already out for delivery, or a delay notice for one delivered
meanwhile, is skipped as superseded; a customer who opted out, blocked the bot or was
erased is told nothing. Every skip is recorded with its reason.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Database
from bot.scheduling.report import NoticeSender, TickReport
from bot.settings import Settings
from flows.contact_window import in_window, next_contact_time
from storage import delivery_notices as dn
from storage.delivery_status import DELIVERED
from storage.followups import customer_zone

log = logging.getLogger("postsale.scheduler")

# Batches planned per pass at most (2,000 notices with the default batch): an import of
# many shipped orders is planned over a few passes, each of which still sends.
PLAN_ROUNDS = 10


class NoticeWatch:
    """One ``tick`` plans up to ``batch`` notices of each source and sends the due ones."""

    def __init__(
        self, db: Database, settings: Settings, messenger: NoticeSender, *, batch: int = 200
    ) -> None:
        self.db, self.settings, self.messenger, self.batch = db, settings, messenger, batch
        self.kinds = settings.notice_kinds
        self.max_age: timedelta = settings.notice_max_age

    @property
    def enabled(self) -> bool:
        return bool(self.kinds) or self.settings.notice_delay

    async def tick(self, now: datetime, report: TickReport) -> None:
        if not self.enabled:
            return
        for _ in range(PLAN_ROUNDS):
            if not await self._plan(now):
                break
        after = 0
        while True:
            async with self.db.uow() as uow:
                claimed = await dn.claim_due(uow.session, now, after_id=after, limit=self.batch)
                for due in claimed:
                    await self._send_one(uow.session, due, now, report)
                await uow.commit()
            if len(claimed) < self.batch:
                return
            after = claimed[-1].notice.id

    async def _plan(self, now: datetime) -> bool:
        """Plan one batch of each source; True when a batch was full (more may wait)."""
        async with self.db.uow() as uow:
            session = uow.session
            statuses = await dn.plan_status_notices(
                session, now, kinds=self.kinds, max_age=self.max_age, limit=self.batch
            )
            delays = 0
            if self.settings.notice_delay:
                delays = await dn.plan_delay_notices(
                    session,
                    now,
                    max_age=self.max_age,
                    default_tz=self.settings.tz,
                    limit=self.batch,
                )
            await uow.commit()
        return statuses >= self.batch or delays >= self.batch

    async def _send_one(
        self, session: AsyncSession, due: dn.DueNotice, now: datetime, report: TickReport
    ) -> None:
        notice = due.notice
        reason = self.reason_to_skip(due, now)
        if reason is not None:
            dn.skip(notice, reason)
            report.notices_skipped[reason] += 1
            return
        zone = customer_zone(due.timezone, self.settings.tz)
        if not in_window(now.astimezone(zone).time(), self.settings.window):
            notice.due_at = next_contact_time(now, self.settings.window, zone)
            report.deferred += 1
            return
        try:
            async with session.begin_nested():
                sent = await self.messenger.send_notice(session, notice, due.order, now, zone)
        except Exception:
            # Recorded, not retried every pass: the log holds the cause.
            log.exception("could not queue delivery notice %s", notice.id)
            dn.skip(notice, dn.FAILED)
            report.errors += 1
            return
        if not sent:
            dn.skip(notice, dn.NO_CHAT)
            report.notices_skipped[dn.NO_CHAT] += 1
            return
        dn.mark_sent(notice, now)
        report.notices += 1

    def reason_to_skip(self, due: dn.DueNotice, now: datetime) -> str | None:
        """Why the notice must not go now, if it must not."""
        notice, order = due.notice, due.order
        if due.unreachable:
            return dn.UNREACHABLE
        if due.opted_out:
            return dn.OPTED_OUT
        if notice.created_at <= now - self.max_age:
            return dn.STALE  # waited too long (the bot was down)
        if notice.kind == dn.DELAYED:
            if not self.settings.notice_delay:
                return dn.TURNED_OFF
            delivered = order.delivered_at is not None or order.delivery_status == DELIVERED
            return dn.SUPERSEDED if delivered else None
        if notice.kind not in self.kinds:
            return dn.TURNED_OFF
        return dn.SUPERSEDED if order.delivery_status != notice.kind else None
