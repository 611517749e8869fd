"""Neutral incoming events: what a customer or operator did, whatever the channel."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TextIn:
    """Free text typed by the person."""

    text: str


@dataclass(frozen=True)
class ButtonIn:
    """An inline button pressed; ``data`` is the button's callback data (<= 64 bytes)."""

    data: str


@dataclass(frozen=True)
class CommandIn:
    """A slash command: ``/start abc`` is ``CommandIn("start", "abc")``."""

    name: str
    args: str = ""


@dataclass(frozen=True)
class ContactIn:
    """A shared phone number; ``own`` is False when somebody else's contact was shared."""

    phone: str
    own: bool = True


@dataclass(frozen=True)
class MediaIn:
    """Something that is not text: ``sticker``, ``photo``, ``voice``, ``document``, ..."""

    kind: str


Event = TextIn | ButtonIn | CommandIn | ContactIn | MediaIn
