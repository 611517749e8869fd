"""Neutral outgoing messages: text to translate and buttons, whatever the channel.

Flows never hold translated text: a ``Say`` carries a gettext message id (English
source text) and its parameters; ``bot.i18n`` renders it in the customer's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias


@dataclass(frozen=True)
class Plural:
    """A count in words, e.g. ``Plural("{n} ticket", "{n} tickets", 3)``.

    As a ``say`` parameter it is rendered with the plural form the customer's
    language gives ``n`` (gettext ``ngettext``), never as "ticket(s)".
    """

    singular: str
    plural: str
    n: int


@dataclass(frozen=True)
class Lines:
    """Message ids shown one a line, each translated on its own (e.g. the /help list).

    As a ``say`` parameter the list can be built from a table (the commands the flows
    register) while each line stays one entry of the catalogs.
    """

    msgids: tuple[str, ...]


Param: TypeAlias = str | int | float | Plural | Lines


@dataclass(frozen=True)
class Button:
    """An inline button: a label (a message id, translated) and its callback data."""

    label: str
    data: str
    params: tuple[tuple[str, Param], ...] = ()
    translate: bool = True


@dataclass(frozen=True)
class Say:
    """One message to the person: text, optional inline buttons, optional phone request."""

    text: str
    params: tuple[tuple[str, Param], ...] = ()
    buttons: tuple[tuple[Button, ...], ...] = ()
    request_contact: bool = False
    # take away a reply keyboard shown earlier (e.g. the phone-number button)
    remove_keyboard: bool = False
    # text already final (e.g. an operator's words): do not translate
    verbatim: bool = False
    extra: tuple[Say, ...] = field(default=(), repr=False)


def say(
    text: str,
    /,
    *,
    buttons: tuple[tuple[Button, ...], ...] = (),
    request_contact: bool = False,
    remove_keyboard: bool = False,
    **params: Param,
) -> Say:
    """Shorthand: ``say("Ticket #{n} opened.", n=3)``."""
    return Say(
        text=text,
        params=tuple(sorted(params.items())),
        buttons=buttons,
        request_contact=request_contact,
        remove_keyboard=remove_keyboard,
    )


def button(label: str, data: str, /, **params: Param) -> Button:
    """A button whose label is a message id (translated when rendered)."""
    return Button(label=label, data=data, params=tuple(sorted(params.items())))


def plain_button(label: str, data: str) -> Button:
    """A button whose label is shown as is (digits, language names, order labels)."""
    return Button(label=label, data=data, translate=False)


def N_(msgid: str) -> str:
    """Mark a message id for extraction where it is not passed to ``say``/``button``."""
    return msgid
