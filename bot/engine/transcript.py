"""What an incoming update leaves in the transcript: its line and its payload."""

from __future__ import annotations

from typing import Any

from bot.channels.port import Incoming
from flows.events import ButtonIn, CommandIn, ContactIn, Event, MediaIn, TextIn


def describe(event: Event, label: str | None = None) -> str:
    """The transcript line of an incoming event (a button by the ``label`` it showed)."""
    if isinstance(event, TextIn):
        return event.text
    if isinstance(event, CommandIn):
        return f"/{event.name} {event.args}".rstrip()
    if isinstance(event, ButtonIn):
        return f"[button] {label or event.data}"
    if isinstance(event, ContactIn):
        return f"[contact] {event.phone}"
    return f"[{event.kind}]"


def payload_of(incoming: Incoming) -> dict[str, Any] | None:
    """The incoming transcript line's payload: the button pressed, the media, the contact."""
    event = incoming.event
    if isinstance(event, ButtonIn):
        label = incoming.button_label
        return {"button": event.data, "label": label} if label else {"button": event.data}
    if isinstance(event, MediaIn):
        return {"media": event.kind}
    if isinstance(event, ContactIn):
        return {"contact": event.phone, "own": event.own}
    return None
