"""What a handler of one update gets: the open transaction and ways to answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.port import Incoming
from bot.settings import Settings
from flows.replies import Say
from storage.conversations import write_message
from storage.outbox import enqueue
from storage.outbox_body import BodyButton, OutboxBody

if TYPE_CHECKING:
    from bot.engine.pipeline import Engine


def body_of(message: Say | str | dict[str, Any], locale: str) -> dict[str, Any]:
    """An outbox body from a flow ``Say``, verbatim text, or a ready body."""
    if isinstance(message, dict):
        return message
    if isinstance(message, str):
        return OutboxBody(text=message).to_json()
    if message.verbatim:
        rows = tuple(tuple(BodyButton(b.label, b.data) for b in row) for row in message.buttons)
        return OutboxBody(text=message.text, buttons=rows).to_json()
    from bot.i18n import render

    return render(message, locale)


@dataclass
class UpdateContext:
    """One update being handled inside one transaction (DESIGN.md invariant 1)."""

    session: AsyncSession
    settings: Settings
    now: datetime
    incoming: Incoming
    locale: str
    engine: Engine
    customer_id: int | None = None
    conversation_id: int | None = None
    followup_id: int | None = None  # the survey this update invites to, if any
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def reply(
        self, message: Say | str | dict[str, Any], *, purpose: str = "reply"
    ) -> dict[str, Any]:
        """Answer in the chat the update came from."""
        return await self.send_to(
            self.incoming.channel,
            self.incoming.chat_id,
            message,
            purpose=purpose,
            customer_id=self.customer_id,
            conversation_id=self.conversation_id,
        )

    async def send_to(
        self,
        channel: str,
        chat_id: str,
        message: Say | str | dict[str, Any],
        *,
        purpose: str,
        customer_id: int | None = None,
        conversation_id: int | None = None,
        locale: str | None = None,
    ) -> dict[str, Any]:
        """Queue a message to any chat; it leaves only when the transaction commits."""
        body = body_of(message, locale or self.locale)
        await enqueue(
            self.session,
            channel=channel,
            chat_id=chat_id,
            body=body,
            purpose=purpose,
            now=self.now,
            customer_id=customer_id,
            deadline=self._deadline(purpose),
            followup_id=self.followup_id if purpose == "invitation" else None,
        )
        await write_message(
            self.session,
            conversation_id=conversation_id,
            customer_id=customer_id,
            channel=channel,
            chat_id=chat_id,
            direction="out",
            flow=None,
            text=body.get("text"),
            payload={k: v for k, v in body.items() if k != "text"} or None,
            at=self.now,
        )
        self.sent.append(body)
        return body

    def _deadline(self, purpose: str) -> datetime | None:
        """Until when a survey message is worth sending: its survey expires then (the
        reminder goes ``REMINDER_AFTER`` into it). Others: ``OUTBOX_RETRY_FOR``."""
        expires, reminder = self.settings.survey_expires_after, self.settings.reminder_after
        if purpose == "invitation":
            return self.now + expires
        if purpose == "reminder":
            return self.now + max(expires - reminder, timedelta(0))
        return None


class OperatorHandler(Protocol):
    """Handles operator commands and ``op:`` buttons; returns True when it handled one."""

    async def __call__(self, ctx: UpdateContext) -> bool: ...
