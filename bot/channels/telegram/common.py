"""What both Telegram adapters share: updates to ``Incoming``, keyboards, the command menu.

aiogram and python-telegram-bot model updates with the same attribute names (the Bot
API's, with ``from`` spelled ``from_user``), so one duck-typed translation serves both;
each adapter only turns its library's objects into calls.

Choices (documented in the README):
* an edited message becomes ``MediaIn("edited")``: the flows answer that edits are not
  read and a new message should be sent (an edited score must not change an answer
  silently, and the original was already handled);
* channel posts, their edits and update kinds we do not know are ignored;
* group messages are passed on with their ``chat_type``: the engine serves only the
  operators' group; service messages in groups (someone joined, ...) are ignored;
* ``/cmd@name``: in a group, a command naming another bot is left to that bot; in a
  private chat only this bot reads the message, so the name is ignored and the
  command answered (``/help@old_name`` after a rename still gets help);
* text (messages, names, button data) is cleaned on the way in (``clean_text``: no
  NUL, no lone surrogates), so that both databases store it and a reply comes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.channels.port import Incoming, Outgoing, Rejected
from bot.i18n import LOCALES, translate
from flows.events import ButtonIn, CommandIn, ContactIn, Event, MediaIn, TextIn
from flows.linking import CONTACT_LABEL
from flows.menu import CUSTOMER_COMMANDS, OPERATOR_COMMANDS
from flows.text_safety import clean_text

CHANNEL = "telegram"
MAX_CALLBACK_DATA = 64  # bytes, Bot API limit
MAX_CAPTION = 1024
MEDIA_KINDS = (
    "photo",
    "sticker",
    "voice",
    "video",
    "video_note",
    "animation",
    "audio",
    "document",
    "location",
    "venue",
    "poll",
    "dice",
)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
"""What we ask Telegram for; anything else that arrives anyway is ignored."""


def _str(value: Any) -> str:
    """A chat type as plain text (ptb gives a ``StringEnum``, aiogram a ``str``)."""
    return str(getattr(value, "value", value))


def chat_key(update: Any) -> str:
    """The key that orders an update among its chat's updates (cheap: no translation)."""
    message = update.message or update.edited_message
    if message is not None:
        return str(message.chat.id)
    query = update.callback_query
    if query is not None:
        if query.message is not None:
            return str(query.message.chat.id)
        return f"user:{query.from_user.id}"
    return f"update:{update.update_id}"  # ignored kinds: no order to keep


class ForAnotherBot(Exception):
    """A command addressed to another bot (``/kpi@their_bot`` in a group)."""


def parse_command(text: str, bot_username: str | None = None) -> CommandIn | None:
    """``/start abc`` -> ``CommandIn("start", "abc")``; ``/help@our_bot`` -> ``help``.

    Raises ``ForAnotherBot`` when the command names a bot other than ``bot_username``.
    """
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, args = text[1:].partition(" ")
    name, _, addressee = head.partition("@")
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        raise ForAnotherBot(addressee)
    if not name:
        return None
    return CommandIn(name.lower(), args.strip())


def message_event(message: Any, private: bool, bot_username: str | None = None) -> Event | None:
    """The neutral event of a message; None when there is nothing to handle."""
    text = message.text
    if text:
        text = clean_text(text)
        try:
            # Private: nobody else reads the chat, whichever bot the command names.
            return parse_command(text, None if private else bot_username) or TextIn(text)
        except ForAnotherBot:
            return None  # in a group, another bot's business
    contact = message.contact
    if contact is not None:
        sender = message.from_user
        own = contact.user_id is not None and sender is not None and contact.user_id == sender.id
        return ContactIn(clean_text(contact.phone_number), own=own)
    for kind in MEDIA_KINDS:
        if getattr(message, kind, None):
            return MediaIn(kind)
    return MediaIn("other") if private else None  # service messages in groups


def to_incoming(update: Any, bot_username: str | None = None) -> Incoming | None:
    """The ``Incoming`` of a library update object; None for what we ignore."""
    update_id = str(update.update_id)
    callback_id = message_id = label = None
    message = update.message
    edited = update.edited_message
    query = update.callback_query
    if message is not None:
        chat, sender = message.chat, message.from_user
        event = message_event(message, _str(chat.type) == "private", bot_username)
    elif edited is not None:
        chat, sender = edited.chat, edited.from_user
        event = MediaIn("edited")
    elif query is not None and query.message is not None:
        chat, sender = query.message.chat, query.from_user
        callback_id = str(query.id)
        event = ButtonIn(clean_text(query.data)) if query.data else None
        message_id = str(query.message.message_id)
        label = _pressed_label(query.message, query.data)
    else:
        return None  # channel posts, inline queries, members, polls...
    if event is None or sender is None:
        return None
    return Incoming(
        channel=CHANNEL,
        update_id=update_id,
        chat_id=str(chat.id),
        user_id=str(sender.id),
        chat_type=_str(chat.type),
        event=event,
        language_code=_clean(sender.language_code),
        first_name=_clean(sender.first_name),
        username=_clean(sender.username),
        callback_id=callback_id,
        message_id=message_id,
        button_label=label,
    )


def _pressed_label(message: Any, data: str | None) -> str | None:
    """The text of the button with callback ``data`` on ``message`` (what the person saw)."""
    keyboard = getattr(getattr(message, "reply_markup", None), "inline_keyboard", None) or ()
    for row in keyboard:
        for button in row:
            if button.callback_data == data:
                return str(button.text)
    return None


def _clean(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


def callback_id_of(update: Any) -> str | None:
    """The callback query to answer, whether or not the update was handled."""
    query = update.callback_query
    return str(query.id) if query is not None else None


def check_buttons(message: Outgoing) -> None:
    """Refuse callback data Telegram would refuse (``Rejected``, before any request)."""
    for row in message.buttons:
        for button in row:
            size = len(button.data.encode())
            if not 1 <= size <= MAX_CALLBACK_DATA:
                raise Rejected(
                    f"callback data of button {button.text!r} is {size} bytes "
                    f"(1-{MAX_CALLBACK_DATA} allowed)"
                )


def inline_keyboard(message: Outgoing) -> dict[str, Any]:
    """The ``InlineKeyboardMarkup`` object of the message's buttons (empty: no keyboard)."""
    return {
        "inline_keyboard": [
            [{"text": b.text, "callback_data": b.data} for b in row] for row in message.buttons
        ]
    }


def reply_markup(message: Outgoing) -> dict[str, Any] | None:
    """The Bot API's ``reply_markup`` object: inline buttons, else the share-my-phone
    keyboard, else a keyboard removal, else none."""
    if message.buttons:
        return inline_keyboard(message)
    if message.request_contact:
        button = {"text": contact_label(message), "request_contact": True}
        return {"keyboard": [[button]], "resize_keyboard": True, "one_time_keyboard": True}
    if message.remove_keyboard:
        return {"remove_keyboard": True}
    return None


def remote_id(result: Any) -> str:
    """The message id in a send's answer. The answer said the message went: even an
    answer without a readable id is "sent" (never resent), with "?" for the id."""
    message_id = result.get("message_id") if isinstance(result, dict) else None
    return str(message_id) if message_id is not None else "?"


def numeric_id(chat_id: str) -> int | str:
    """A chat id as Telegram writes it: a number (``@channel`` names stay text)."""
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def contact_label(message: Outgoing) -> str:
    return message.contact_label or CONTACT_LABEL


@dataclass(frozen=True)
class MenuScope:
    """One ``setMyCommands`` call: for everyone (chat None) or one chat, in one language."""

    commands: tuple[tuple[str, str], ...]
    chat_id: str | None = None
    language_code: str | None = None


def _rendered(commands: tuple[tuple[str, str], ...], locale: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, translate(description, locale)) for name, description in commands)


def menu_scopes(
    default_locale: str, operator_chats: list[str], operators_group: str = ""
) -> list[MenuScope]:
    """The command menus: customers in each language, operators' chats with their commands."""
    scopes = [MenuScope(_rendered(CUSTOMER_COMMANDS, default_locale))]
    for locale in LOCALES:
        language = locale.split("-")[0]  # Telegram's language_code: two letters
        scopes.append(MenuScope(_rendered(CUSTOMER_COMMANDS, locale), language_code=language))
    both = _rendered(CUSTOMER_COMMANDS + OPERATOR_COMMANDS, default_locale)
    for chat in dict.fromkeys(operator_chats):  # in order, without repeats
        scopes.append(MenuScope(both, chat_id=chat))
    if operators_group:
        scopes.append(
            MenuScope(_rendered(OPERATOR_COMMANDS, default_locale), chat_id=operators_group)
        )
    return scopes
