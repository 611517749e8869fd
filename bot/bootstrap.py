"""The composition root: the one place that builds the bot from settings.

``postsale run`` (``bot.entrypoints.runner``), the terminal chat, the tests' Telegram
stack and the benchmarks all build through here, so that they run the same wiring:
the domain-event table, the messenger, the inbound pipeline, the scheduler, the
channels and the outbox sender. Nothing else constructs these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, cast

from bot.app import Database
from bot.channels.port import ChatWindow, Receipt, UpdateHandler
from bot.delivery.sender import OutboxSender
from bot.engine.dead_letters import DeadLetters
from bot.engine.messenger import Messenger
from bot.engine.pipeline import GROUP_LIMIT, Pipeline, utcnow
from bot.handling import (
    ChannelHalted,
    Detractor,
    EventHandlers,
    SlaWarning,
    Tagger,
    TicketOpened,
    TicketReopened,
)
from bot.i18n import resolve_locale
from bot.metrics import Metrics
from bot.operators import OperatorAlerts, handle_operator, targets_of
from bot.operators.chart import materialize_attachments
from bot.scheduling.scheduler import Scheduler
from bot.scheduling.sla_watch import sla_watch
from bot.settings import Settings
from bot.startup import StartupError
from bot.themes import model_for
from storage.receipts import record_receipt
from storage.roles import operator_user_ids
from storage.themes import TagMany
from storage.windows import chat_seen

# A channel from the settings and the pipeline's ``handle``: ``(settings, handle) -> channel``.
ChannelFactory = Callable[[Settings, UpdateHandler], Any]


def event_handlers(settings: Settings) -> EventHandlers:
    """Each domain event's handlers (the operators' alerts)."""
    alerts = OperatorAlerts(settings)
    return EventHandlers(
        {
            TicketOpened: [alerts.ticket_opened],
            Detractor: [alerts.ticket_opened],
            TicketReopened: [alerts.ticket_reopened],
            SlaWarning: [alerts.sla_warning],
            ChannelHalted: [alerts.channel_halted],
        }
    )


def theme_tagger(settings: Settings) -> Tagger | None:
    """The model that tags reasons, comments and complaints with their theme:
    ``THEMES_MODEL``'s file, else the one shipped with postsale.

    A file that cannot be read stops start-up naming the setting, rather than failing
    every update that carries a reason.
    """
    try:
        return model_for(settings.themes_model)
    except (ValueError, OSError) as exc:
        raise StartupError(f"THEMES_MODEL={settings.themes_model!r}: {exc}") from exc


def theme_tag_many(settings: Settings) -> TagMany | None:
    """``theme_tagger``'s ``tag_many`` (one text at a time if it has none); None without."""
    tagger = theme_tagger(settings)
    if tagger is None:
        return None
    many = getattr(tagger, "tag_many", None)
    if callable(many):
        return cast(TagMany, many)
    return lambda texts: [tagger.tag(text) for text in texts]


@dataclass
class Core:
    """What handles updates and writes to customers, without any channel."""

    db: Database
    settings: Settings
    clock: Callable[[], datetime]
    events: EventHandlers
    messenger: Messenger
    pipeline: Pipeline
    scheduler: Scheduler
    metrics: Metrics

    async def watch_sla(self, now: datetime) -> bool:
        """One SLA watch pass; True when operators were warned of a ticket."""
        return await sla_watch(self.db, partial(targets_of, self.settings), self.events, now)


def build_core(
    db: Database,
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
    *,
    operator_commands: bool = True,
    group_limit: int = GROUP_LIMIT,
    tagger: Tagger | None = None,
) -> Core:
    """The event table, the messenger, the pipeline and the scheduler on ``db``.

    ``operator_commands=False`` leaves operator commands to the customer flows (tests
    of the customer side only); operators are still told about tickets.
    """
    events = event_handlers(settings)
    messenger = Messenger(settings, events)
    metrics = Metrics()
    pipeline = Pipeline(
        db,
        settings,
        clock,
        messenger=messenger,
        events=events,
        operator_handler=handle_operator if operator_commands else None,
        unit_of_work=partial(db.uow, small=True),  # SQLite: the fast path (storage.uow)
        group_limit=group_limit,
        tagger=tagger if tagger is not None else theme_tagger(settings),
        metrics=metrics,
    )
    scheduler = Scheduler(db, settings, messenger, clock)
    pipeline.on_linked = scheduler.start_due_of
    return Core(db, settings, clock, events, messenger, pipeline, scheduler, metrics)


# -- channels (``bot.channels.registry.enabled_factories`` gives the settings' ones) -----


def build_channels(
    settings: Settings, handle: UpdateHandler, factories: Mapping[str, ChannelFactory]
) -> dict[str, Any]:
    """Each channel by its name, receiving into ``handle``."""
    return {name: factory(settings, handle) for name, factory in factories.items()}


# -- the whole app ----------------------------------------------------------------------


@dataclass
class App:
    """The core, its channels and the outbox sender that sends through them."""

    core: Core
    channels: dict[str, Any]
    sender: OutboxSender

    async def watch_sla(self) -> None:
        if await self.core.watch_sla(self.core.clock()):
            self.sender.wake()


def build_app(
    db: Database,
    settings: Settings,
    channels: Mapping[str, ChannelFactory],
    clock: Callable[[], datetime] = utcnow,
    *,
    limits: Any = None,
    log_every: float = 5.0,
    tagger: Tagger | None = None,
) -> App:
    """The whole bot on ``db``: ``limits`` (``SendLimits``) default to the settings'."""
    core = build_core(db, settings, clock, tagger=tagger)
    built = build_channels(settings, core.pipeline.handle, channels)
    dead_letters = DeadLetters(db, clock).record
    core.pipeline.edits_buttons = frozenset(
        name for name, channel in built.items() if channel.capabilities.edits_buttons
    )
    for name, channel in built.items():
        if hasattr(channel, "dead_letters"):
            channel.dead_letters = dead_letters
        if hasattr(channel, "operator_ids"):
            channel.operator_ids = partial(_operator_ids, db)
        if hasattr(channel, "chat_window"):
            channel.chat_window = partial(_chat_window, db, settings, name)
        if hasattr(channel, "on_receipt"):
            channel.on_receipt = partial(_record_receipt, db)
    sender = OutboxSender(
        db,
        built,
        limits if limits is not None else settings,
        clock,
        log_every=log_every,
        render_body=partial(materialize_attachments, db, settings=settings),
    )
    sender.delivery.on_halted = partial(_halted, core, sender)
    sender.delivery.metrics = core.metrics
    core.pipeline.on_queued.append(sender.wake)
    core.scheduler.on_queued = sender.wake
    return App(core, built, sender)


async def _chat_window(db: Database, settings: Settings, channel: str, chat_id: str) -> ChatWindow:
    """When the chat last wrote and its language (for templates outside the window)."""
    async with db.reader() as uow:
        seen = await chat_seen(uow.session, channel, chat_id)
    chosen = seen.customer_locale or seen.chat_locale
    locale = resolve_locale(chosen, seen.client_language, settings.default_locale)
    return ChatWindow(seen.last_inbound_at, locale)


async def _record_receipt(db: Database, channel: str, receipt: Receipt) -> None:
    """A sent message's status from the channel's server, on its outbox row."""
    async with db.uow() as uow:
        await record_receipt(
            uow.session, channel, receipt.remote_id, receipt.status, receipt.at, receipt.error
        )
        await uow.commit()


async def _halted(
    core: Core, sender: OutboxSender, channel: str, reason: str, until: datetime
) -> None:
    """A channel may not send for now: tell the operators (once per halt)."""
    async with core.db.uow() as uow:
        await core.events.dispatch(
            uow.session, [ChannelHalted(channel, reason, until, core.clock())]
        )
        await uow.commit()
    sender.wake()


async def _operator_ids(db: Database) -> list[str]:
    """Operators from the operators table, for their command menu."""
    async with db.reader() as uow:
        return await operator_user_ids(uow.session)
