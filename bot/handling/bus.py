"""The table of domain-event handlers, dispatched inside the emitting transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.handling.events import EVENT_TYPES

EventHandler = Callable[[AsyncSession, Any], Awaitable[None]]


class MissingHandler(LookupError):
    """An event was emitted that nothing handles: a wiring mistake, never silence."""


class EventHandlers:
    """Event type -> its handlers, in order. Built once, by the bootstrap."""

    def __init__(self, table: Mapping[type, Sequence[EventHandler]]) -> None:
        self._table = {kind: tuple(handlers) for kind, handlers in table.items()}

    def unhandled(self) -> list[type]:
        """The domain event types this table has no handler for."""
        return [kind for kind in EVENT_TYPES if not self._table.get(kind)]

    async def dispatch(self, session: AsyncSession, events: list[Any]) -> None:
        """Handle ``events`` in order (emptying the list); an error fails the transaction."""
        while events:
            event = events.pop(0)
            handlers = self._table.get(type(event))
            if not handlers:
                raise MissingHandler(f"no handler for {type(event).__name__}")
            for handler in handlers:
                await handler(session, event)
