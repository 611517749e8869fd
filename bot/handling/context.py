"""The context of one message handled inside one transaction, and the ports it offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.port import Incoming
from bot.handling.events import DomainEvent
from bot.i18n import render
from bot.settings import Settings
from flows.replies import Say
from storage.conversations import write_message
from storage.models import FollowUp, Ticket
from storage.outbox import enqueue
from storage.outbox_body import BodyButton, OutboxBody


def body_of(message: Say | str | OutboxBody, locale: str) -> OutboxBody:
    """An outbox body from a flow ``Say``, verbatim text, or a ready body."""
    if isinstance(message, OutboxBody):
        return message
    if isinstance(message, str):
        return OutboxBody(text=message)
    if message.verbatim:
        rows = tuple(tuple(BodyButton(b.label, b.data) for b in row) for row in message.buttons)
        return OutboxBody(text=message.text, buttons=rows)
    return render(message, locale)


class Tagger(Protocol):
    """What a text is about: a theme name of ``flows.themes``, None for an empty text.

    ``bot.themes.ThemeModel`` is one; the bootstrap gives the engine its tagger, so the
    engine never loads a model itself.
    """

    def tag(self, text: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Address:
    """A chat on a channel: where a message goes."""

    channel: str
    chat_id: str


@dataclass(kw_only=True)
class MessageContext:
    """A message being handled in one transaction (DESIGN.md invariant 1): an incoming
    update's, or one the bot starts itself (a survey invitation, an operator's reply)."""

    session: AsyncSession
    settings: Settings
    now: datetime
    address: Address  # the chat this message is about: replies go there
    locale: str
    customer_id: int | None = None
    conversation_id: int | None = None
    followup_id: int | None = None  # the survey this message invites to, if any
    tagger: Tagger | None = None  # themes of reasons and complaints; None: left untagged
    sent: list[OutboxBody] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)  # dispatched by the engine

    def emit(self, event: DomainEvent) -> None:
        """Record a domain event; its handlers run later in this transaction."""
        self.events.append(event)

    def theme_of(self, text: str | None) -> str | None:
        """The theme of a customer's text, None without a text or a tagger."""
        if not text or self.tagger is None:
            return None
        return self.tagger.tag(text)

    async def reply(self, message: Say | str | OutboxBody, *, purpose: str = "reply") -> OutboxBody:
        """Answer in this context's chat."""
        return await self.send_to(
            self.address.channel,
            self.address.chat_id,
            message,
            purpose=purpose,
            customer_id=self.customer_id,
            conversation_id=self.conversation_id,
        )

    async def send_to(
        self,
        channel: str,
        chat_id: str,
        message: Say | str | OutboxBody,
        *,
        purpose: str,
        customer_id: int | None = None,
        conversation_id: int | None = None,
        locale: str | None = None,
    ) -> OutboxBody:
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
            text=body.text,
            payload=body.transcript_payload(),
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


class CustomerMessenger(Protocol):
    """Messages the bot starts to a customer, in the caller's transaction
    (``bot.engine.messenger.Messenger``); each is False when no chat is linked."""

    async def start_survey(
        self, session: AsyncSession, followup: FollowUp, now: datetime
    ) -> bool: ...

    async def remind(self, session: AsyncSession, followup: FollowUp, now: datetime) -> bool: ...

    async def expire(self, session: AsyncSession, followup: FollowUp, now: datetime) -> None: ...

    async def ask_resolution(
        self, session: AsyncSession, ticket: Ticket, now: datetime
    ) -> bool: ...

    async def tell_customer(
        self, session: AsyncSession, customer_id: int, text: str, now: datetime, purpose: str = ...
    ) -> bool: ...

    async def closed_window(
        self, session: AsyncSession, customer_id: int, now: datetime
    ) -> ClosedWindow | None: ...


@dataclass(frozen=True)
class ClosedWindow:
    """The customer's chat is on a channel whose service window has closed (WhatsApp):
    what the bot writes now goes as a template. ``last_inbound_at`` None: never wrote."""

    channel: str
    last_inbound_at: datetime | None


@dataclass(kw_only=True)
class UpdateContext(MessageContext):
    """An incoming update being handled; operator commands get this."""

    incoming: Incoming
    messenger: CustomerMessenger  # operators reach customers through it


class OperatorHandler(Protocol):
    """Handles operator commands and ``op:`` buttons; returns True when it handled one."""

    async def __call__(self, ctx: UpdateContext) -> bool: ...
