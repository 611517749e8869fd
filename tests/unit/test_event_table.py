"""The domain-event table: complete as the bootstrap builds it, loud when it is not."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.bootstrap import event_handlers
from bot.handling import EVENT_TYPES, EventHandlers, MissingHandler, TicketOpened, TicketReopened
from bot.handling import events as ev
from bot.settings import Settings

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_every_domain_event_class_is_in_the_union() -> None:
    classes = {
        cls
        for _, cls in inspect.getmembers(ev, inspect.isclass)
        if cls.__module__ == ev.__name__ and dataclasses.is_dataclass(cls)
    }
    assert set(EVENT_TYPES) == classes


def test_the_bootstraps_table_handles_every_domain_event() -> None:
    table = event_handlers(Settings(_env_file=None))  # type: ignore[call-arg]
    assert table.unhandled() == []


async def test_an_event_nothing_handles_is_an_error_not_silence() -> None:
    table = EventHandlers({TicketReopened: []})
    assert set(table.unhandled()) == set(EVENT_TYPES)
    with pytest.raises(MissingHandler, match="TicketOpened"):
        await table.dispatch(None, [TicketOpened(1, "telegram", NOW)])  # type: ignore[arg-type]


async def test_handlers_run_in_order_for_each_event_in_turn() -> None:
    seen: list[tuple[str, int]] = []

    def handler(name: str) -> Any:
        async def handle(session: object, event: TicketOpened) -> None:
            seen.append((name, event.ticket_id))

        return handle

    table = EventHandlers({TicketOpened: [handler("a"), handler("b")]})
    events: list[object] = [TicketOpened(1, "telegram", NOW), TicketOpened(2, "telegram", NOW)]
    await table.dispatch(None, events)  # type: ignore[arg-type]
    assert seen == [("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    assert events == []  # dispatched events are taken off the context
