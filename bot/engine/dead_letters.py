"""Keeps the updates a channel gave up on in the ``dead_updates`` table, for operators."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.app import Database
from storage import dead_updates


class DeadLetters:
    """``record`` is a channel's ``dead_letters``: one small transaction per dead update."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db, self.clock = db, clock

    async def record(
        self, channel: str, update_id: str | None, raw: Mapping[str, Any], error: str
    ) -> None:
        async with self.db.uow() as uow:
            await dead_updates.record(
                uow.session,
                channel=channel,
                update_id=update_id,
                raw=raw,
                error=error,
                now=self.clock(),
            )
            await uow.commit()
