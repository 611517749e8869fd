"""The follow-up scheduler: plans follow-ups, sends due invitations and delivery notices,
reminds, expires.

Every pass reads the clock once (tests move the clock, never sleep) and works in
small transactions of at most ``batch`` rows, so a crash loses at most one batch's
uncommitted work, which the next pass simply does again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Database
from bot.scheduling.notices import NoticeWatch
from bot.scheduling.report import SurveyStarter, Sweep, TickReport
from bot.settings import Settings
from flows.contact_window import in_window, next_contact_time
from storage import followups as fu
from storage.models import FollowUp
from storage.phone_chats import reach_due_by_phone

# A batch of follow-ups claimed after an id, and what is done with each, in one transaction.
Claim = Callable[[AsyncSession, int], Awaitable[list[fu.Claimed]]]
Handle = Callable[[AsyncSession, fu.Claimed], Awaitable[None]]

log = logging.getLogger("postsale.scheduler")


class Scheduler:
    """One ``tick()`` does a whole pass; ``run()`` repeats it every ``interval`` seconds."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        messenger: SurveyStarter,
        clock: Callable[[], datetime],
        *,
        interval: float = 5.0,
        batch: int = 200,
        plan_limit: int = 2000,
        stale_after: timedelta | None = None,
        on_queued: Callable[[], None] | None = None,
        full_sweep_every: timedelta = timedelta(hours=1),
        watermark_lag: timedelta = timedelta(minutes=10),
    ) -> None:
        self.db, self.settings, self.messenger, self.clock = db, settings, messenger, clock
        self.interval = interval
        self.batch = batch
        # Orders planned per pass at most: the rest of a backlog waits for the next pass.
        self.plan_limit = plan_limit
        # A follow-up due longer ago than this (e.g. the customer never linked a chat)
        # is no longer worth a survey.
        self.stale_after = stale_after or settings.survey_expires_after
        self.on_queued = on_queued
        self.full_sweep_every = full_sweep_every
        self.watermark_lag = watermark_lag
        self._window = settings.window
        self._tz = settings.tz
        self._watermark: datetime | None = None
        self._last_full_sweep: datetime | None = None
        self._sweep: Sweep | None = None
        self.notices = NoticeWatch(db, settings, messenger, batch=batch)

    # -- the pass -------------------------------------------------------------------

    async def tick(self) -> TickReport:
        """Plan, skip, send due invitations, remind and expire, as of ``clock()``."""
        now = self.clock()
        report = TickReport()
        await self._plan(now, report)
        if self.settings.phone_channel is not None:
            async with self.db.uow() as uow:
                await reach_due_by_phone(uow.session, self.settings.phone_channel, now)
                await uow.commit()
        async with self.db.uow() as uow:
            skipped = await fu.skip_undeliverable(
                uow.session,
                now,
                throttle=self.settings.survey_throttle,
                stale_after=self.stale_after,
            )
            await uow.commit()
        report.skipped.update(skipped)
        await self._send_due(now, report)
        await self.notices.tick(now, report)
        await self._remind(now, report)
        await self._expire(now, report)
        async with self.db.uow() as uow:
            report.waiting_for_link = await fu.waiting_for_link(uow.session, now)
        if report.queued_messages and self.on_queued is not None:
            self.on_queued()
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Tick every ``interval`` seconds until ``stop`` is set; errors are logged.

        While a backlog is being planned the next pass follows at once (it sends
        what is due first, so nothing waits behind the backlog).
        """
        while not stop.is_set():
            pause = self.interval
            try:
                report = await self.tick()
            except Exception:
                log.exception("scheduler pass failed; trying again in %ss", self.interval)
            else:
                if report.worth_logging:
                    log.info("follow-ups: %s", report)
                if report.backlog:
                    pause = 0.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)

    # -- planning -------------------------------------------------------------------

    async def _plan(self, now: datetime, report: TickReport) -> None:
        """Plan up to ``plan_limit`` orders changed since the last sweep (all, now and then).

        A sweep reads only orders updated after the last watermark (an index range),
        so orders imported by another process are picked up within one interval. The
        lag covers importers whose transactions commit after a later one; the periodic
        full sweep covers anything else. A sweep through a big backlog (an import of
        many thousand orders) spans several passes, each of which still sends what is
        due: planning never starves the invitations.
        """
        sweep = self._sweep or await self._start_sweep(now)
        self._sweep = sweep
        budget = self.plan_limit
        while budget > 0:
            limit = min(self.batch, budget)
            async with self.db.uow() as uow:
                counts = await fu.plan_batch(
                    uow.session,
                    now,
                    delay=self.settings.followup_delay,
                    window=self._window,
                    default_tz=self._tz,
                    stale_after=self.stale_after,
                    updated_since=sweep.since,
                    after_id=sweep.after_id,
                    limit=limit,
                )
                await uow.commit()
            report.planned += counts.planned
            report.skipped.update(counts.skipped)
            budget -= counts.seen
            sweep.after_id = counts.last_id
            if counts.seen < limit:
                self._watermark = sweep.mark or self._watermark
                if sweep.full:
                    self._last_full_sweep = now
                self._sweep = None
                return
        report.backlog = True

    async def _start_sweep(self, now: datetime) -> Sweep:
        full = self._watermark is None or (
            self._last_full_sweep is None or now - self._last_full_sweep >= self.full_sweep_every
        )
        since = None if full or self._watermark is None else self._watermark - self.watermark_lag
        async with self.db.uow() as uow:
            mark = await fu.orders_watermark(uow.session)
        # An order stamped in the future (a bad row, a skewed clock) must not move the
        # next sweep's start past the orders imported meanwhile.
        mark = min(mark, now) if mark is not None else None
        return Sweep(full=full, since=since, mark=mark)

    # -- invitations, reminders, expiries -------------------------------------------

    async def _in_batches(self, claim: Claim, handle: Handle) -> None:
        """Claim rows ``batch`` at a time, each batch handled in one transaction; the next
        batch starts after the last id claimed."""
        after = 0
        while True:
            async with self.db.uow() as uow:
                claimed = await claim(uow.session, after)
                for item in claimed:
                    await handle(uow.session, item)
                await uow.commit()
            if len(claimed) < self.batch:
                return
            after = claimed[-1].followup.id

    async def _send_due(self, now: datetime, report: TickReport) -> None:
        async def claim(session: AsyncSession, after: int) -> list[fu.Claimed]:
            return await fu.claim_due(session, now, after_id=after, limit=self.batch)

        async def send(session: AsyncSession, item: fu.Claimed) -> None:
            await self._send_one(session, item, now, report)

        await self._in_batches(claim, send)

    async def start_due_of(self, session: AsyncSession, customer_id: int, now: datetime) -> bool:
        """Start a due survey of a customer who has just linked a chat, in the link's
        transaction: the question follows the welcome at once, not at the next pass
        (a message typed in between was read as idle chat; issue 14)."""
        report = TickReport()
        for item in await fu.claim_due_of(session, customer_id, now, stale_after=self.stale_after):
            await self._send_one(session, item, now, report)
        return report.sent > 0

    async def _send_one(
        self, session: AsyncSession, item: fu.Claimed, now: datetime, report: TickReport
    ) -> None:
        followup = item.followup
        tz = fu.customer_zone(item.timezone, self._tz)
        # The bot may have been down, or the customer linked late: never write at night.
        if not in_window(now.astimezone(tz).time(), self._window):
            followup.due_at = next_contact_time(now, self._window, tz)
            report.deferred += 1
            return
        customer = await fu.lock_customer(session, followup.customer_id)
        if customer is None:
            return
        last = customer.last_surveyed_at
        if last is not None and last > now - self.settings.survey_throttle:
            # Two orders of one customer due together: the first one's survey counts.
            followup.status, followup.skip_reason = "skipped", fu.THROTTLED
            report.skipped[fu.THROTTLED] += 1
            return
        try:
            async with session.begin_nested():
                started = await self.messenger.start_survey(session, followup, now)
        except Exception:
            log.exception("could not start the survey of follow-up %s", followup.id)
            report.errors += 1
            return
        if not started:
            return  # no linked chat after all: stays pending, waiting for a link
        followup.status, followup.sent_at = "sent", now
        customer.last_surveyed_at = now
        report.sent += 1

    async def _remind(self, now: datetime, report: TickReport) -> None:
        async def claim(session: AsyncSession, after: int) -> list[fu.Claimed]:
            return await fu.claim_reminders(
                session,
                now,
                reminder_after=self.settings.reminder_after,
                expires_after=self.settings.survey_expires_after,
                after_id=after,
                limit=self.batch,
            )

        async def remind(session: AsyncSession, item: fu.Claimed) -> None:
            tz = fu.customer_zone(item.timezone, self._tz)
            if not in_window(now.astimezone(tz).time(), self._window):
                return  # reminded on a later pass, inside the window
            if await self._guarded(session, self.messenger.remind, item.followup, now):
                item.followup.status, item.followup.reminded_at = "reminded", now
                report.reminded += 1
            else:
                report.errors += 1

        await self._in_batches(claim, remind)

    async def _expire(self, now: datetime, report: TickReport) -> None:
        async def claim(session: AsyncSession, after: int) -> list[fu.Claimed]:
            return await fu.claim_expiries(
                session,
                now,
                expires_after=self.settings.survey_expires_after,
                after_id=after,
                limit=self.batch,
            )

        async def expire(session: AsyncSession, item: fu.Claimed) -> None:
            if await self._guarded(session, self.messenger.expire, item.followup, now):
                item.followup.status, item.followup.expired_at = "expired", now
                report.expired += 1
            else:
                report.errors += 1

        await self._in_batches(claim, expire)

    async def _guarded(
        self,
        session: AsyncSession,
        action: Callable[[AsyncSession, FollowUp, datetime], object],
        followup: FollowUp,
        now: datetime,
    ) -> bool:
        """Run a messenger call in a savepoint; one bad row does not undo the batch."""
        try:
            async with session.begin_nested():
                result = action(session, followup, now)
                if asyncio.iscoroutine(result):
                    await result
        except Exception:
            log.exception("follow-up %s: messenger call failed", followup.id)
            return False
        return True
