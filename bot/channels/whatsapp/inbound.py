"""The Cloud API's webhook JSON as ``Incoming`` updates and ``Receipt``s.

A body is ``{"object": "whatsapp_business_account", "entry": [{"changes": [{"field":
"messages", "value": {...}}]}]}``; a value names the business number it is for
(``metadata.phone_number_id``) and holds ``contacts`` (the senders' profiles),
``messages`` and ``statuses``. Only values for our number are read.

Choices: a reply button or list row press is ``ButtonIn`` of the id we gave it, a
template's quick reply ``ButtonIn`` of its payload; reactions and system notices (a
number change) are ignored; a kind we do not know is ``MediaIn("unsupported")``, so
the person is told only text and buttons are read. Text is cleaned on the way in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.channels.port import Incoming, Receipt
from bot.channels.whatsapp.profile import NAME
from flows.events import ButtonIn, CommandIn, ContactIn, Event, MediaIn, TextIn
from flows.text_safety import clean_text

MAX_UPDATE_ID = 64  # the handled-updates key; a wamid may be longer
MEDIA = {
    "image": "photo",
    "audio": "voice",
    "sticker": "sticker",
    "document": "document",
    "video": "video",
    "location": "location",
}
IGNORED = {"reaction", "system"}
STATUSES = {"sent", "delivered", "read", "failed"}


class Unreadable(ValueError):
    """A message object without what every message has (its id, sender, time)."""


@dataclass
class Batch:
    """What one webhook body holds for our number."""

    messages: list[tuple[Incoming, datetime]] = field(default_factory=list)  # and its time
    receipts: list[Receipt] = field(default_factory=list)
    unreadable: list[tuple[dict[str, Any], Exception]] = field(default_factory=list)


def values_for(data: dict[str, Any], phone_number_id: str) -> Iterator[dict[str, Any]]:
    """The ``value`` of every change of ``data`` addressed to our number."""
    for entry in _dicts(data.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if not isinstance(value, dict) or change.get("field", "messages") != "messages":
                continue
            metadata = value.get("metadata")
            number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            if str(number) == phone_number_id:
                yield value


def read_batch(data: dict[str, Any], phone_number_id: str) -> Batch:
    batch = Batch()
    for value in values_for(data, phone_number_id):
        names = _names(value.get("contacts"))
        for message in _dicts(value.get("messages")):
            try:
                read = to_incoming(message, names)
            except (Unreadable, TypeError, ValueError, KeyError) as exc:
                batch.unreadable.append((message, exc))
                continue
            if read is not None:
                batch.messages.append(read)
        batch.receipts.extend(r for r in map(to_receipt, _dicts(value.get("statuses"))) if r)
    return batch


def to_incoming(
    message: dict[str, Any], names: dict[str, str] | None = None
) -> tuple[Incoming, datetime] | None:
    """The ``Incoming`` of one message object and the time it was sent; None: ignored."""
    wamid, sender, stamp = message.get("id"), message.get("from"), message.get("timestamp")
    if not (isinstance(wamid, str) and wamid and isinstance(sender, str) and sender.isdigit()):
        raise Unreadable("a message without its id or sender")
    if not isinstance(stamp, str | int):
        raise Unreadable(f"message {wamid} without its timestamp")
    sent_at = datetime.fromtimestamp(int(stamp), UTC)
    event = message_event(message)
    if event is None:
        return None
    context = message.get("context")
    label = _pressed_label(message) if isinstance(event, ButtonIn) else None
    name = (names or {}).get(sender)
    incoming = Incoming(
        channel=NAME,
        update_id=update_id_of(wamid),
        chat_id=sender,
        user_id=sender,
        chat_type="private",
        event=event,
        first_name=clean_text(name) if name else None,
        message_id=str(context["id"]) if isinstance(context, dict) and context.get("id") else None,
        button_label=label,
        phone="+" + sender,
        raw=message,
    )
    return incoming, sent_at


def message_event(message: dict[str, Any]) -> Event | None:
    """The neutral event of a message object (None: nothing to handle)."""
    kind = message.get("type")
    body = message.get(kind) if isinstance(kind, str) else None
    if kind in IGNORED:
        return None
    if kind == "text" and isinstance(body, dict) and body.get("body"):
        return text_event(clean_text(str(body["body"])))
    if kind == "interactive" and isinstance(body, dict):
        reply = body.get(str(body.get("type")))
        if body.get("type") in ("button_reply", "list_reply") and isinstance(reply, dict):
            return ButtonIn(clean_text(str(reply["id"])))
    if kind == "button" and isinstance(body, dict) and body.get("payload"):
        return ButtonIn(clean_text(str(body["payload"])))
    if kind == "contacts":
        return _contact(message)
    if isinstance(kind, str) and kind in MEDIA:
        return MediaIn(MEDIA[kind])
    return MediaIn("unsupported")


def text_event(text: str) -> TextIn | CommandIn:
    """``/start abc`` -> ``CommandIn("start", "abc")``; anything else is text."""
    if text.startswith("/") and len(text) > 1:
        head, _, args = text[1:].partition(" ")
        name = head.partition("@")[0]
        if name:
            return CommandIn(name.lower(), args.strip())
    return TextIn(text)


def _contact(message: dict[str, Any]) -> Event:
    for card in _dicts(message.get("contacts")):
        for phone in _dicts(card.get("phones")):
            number = phone.get("phone") or phone.get("wa_id")
            if number:
                own = phone.get("wa_id") is not None and str(phone["wa_id"]) == message["from"]
                return ContactIn(clean_text(str(number)), own=own)
    return MediaIn("unsupported")  # a card without a phone number


def _pressed_label(message: dict[str, Any]) -> str | None:
    body = message.get(str(message.get("type")))
    if not isinstance(body, dict):
        return None
    reply = body.get(str(body.get("type"))) if message.get("type") == "interactive" else body
    title = reply.get("title") or reply.get("text") if isinstance(reply, dict) else None
    return clean_text(str(title)) if title else None


def to_receipt(status: dict[str, Any]) -> Receipt | None:
    """A ``statuses`` item as a ``Receipt`` (None: a status we do not track)."""
    state, wamid, stamp = status.get("status"), status.get("id"), status.get("timestamp")
    if state not in STATUSES or not isinstance(wamid, str) or stamp is None:
        return None
    errors = [_error_text(e) for e in _dicts(status.get("errors"))]
    return Receipt(
        remote_id=wamid,
        status=str(state),
        at=datetime.fromtimestamp(int(stamp), UTC),
        error="; ".join(errors) if state == "failed" else None,
    )


def _error_text(error: dict[str, Any]) -> str:
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    text = f"{error.get('code')}: {error.get('title') or error.get('message') or 'failed'}"
    return f"{text} ({details})" if details else text


def update_id_of(wamid: str) -> str:
    """The update id for the duplicate check: the wamid, or its digest when too long."""
    if len(wamid) <= MAX_UPDATE_ID:
        return wamid
    return "sha256:" + hashlib.sha256(wamid.encode()).hexdigest()[:56]


def _names(contacts: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for contact in _dicts(contacts):
        profile = contact.get("profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        if contact.get("wa_id") and isinstance(name, str) and name:
            found[str(contact["wa_id"])] = name
    return found


def _dicts(items: Any) -> Iterator[dict[str, Any]]:
    if isinstance(items, list):
        yield from (item for item in items if isinstance(item, dict))
