"""The SLA watch: tickets about to miss a target become ``SlaWarning`` events.

``postsale run`` runs it every minute; the operators' handler of the event (wired by
the bootstrap) tells them. Each ticket is warned once (``Ticket.sla_warned_at``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.app import Database
from bot.handling import EventHandlers, SlaWarning
from storage.read.sla import Targets, near_breach

log = logging.getLogger("postsale.operators")


async def sla_watch(
    db: Database, targets: Callable[[], Targets], events: EventHandlers, now: datetime
) -> bool:
    """Emit a warning for each ticket near a breach, in one transaction; True when any.

    ``targets`` raises ``ValueError`` for bad settings (BUSINESS_HOURS): logged, no watch.
    """
    try:
        found_targets = targets()
    except ValueError:
        log.exception("SLA watch disabled")
        return False
    async with db.uow() as uow:
        session = uow.session
        found = await near_breach(session, found_targets, now)
        if not found:
            return False
        warnings: list[object] = []
        for ticket, near in found:
            ticket.sla_warned_at = now
            warnings.append(SlaWarning(ticket.id, near.kind, near.remaining_bs, near.due_at, now))
        await events.dispatch(session, warnings)
        await uow.commit()
    log.info("SLA watch: warned about %d tickets", len(found))
    return True
