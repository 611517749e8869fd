"""Cloud API webhook bodies in Meta's shapes (the messages webhook reference), for tests.

Each builder gives one ``value`` (a message or a status, for our business number);
``body`` wraps values into what Meta posts.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from typing import Any

PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"
WABA_ID = "102290129340398"
_ids = itertools.count(1)


def wamid(n: int | None = None) -> str:
    """A message id shaped like Meta's (``wamid.`` + base64 of the chat and a key)."""
    return f"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ{n or next(_ids):06d}AA="


def body(*values: dict[str, Any]) -> dict[str, Any]:
    changes = [{"value": v, "field": "messages"} for v in values]
    return {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": changes}]}


def _value(phone_number_id: str = PHONE_NUMBER_ID) -> dict[str, Any]:
    metadata = {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": phone_number_id}
    return {"messaging_product": "whatsapp", "metadata": metadata}


def message(
    sender: str,
    kind: str,
    content: dict[str, Any] | list[Any],
    *,
    name: str = "Sheena Nelson",
    at: int | None = None,
    context: str | None = None,
    message_id: str | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict[str, Any]:
    """One value holding one message of ``kind`` from ``sender`` (a wa_id)."""
    item: dict[str, Any] = {
        "from": sender,
        "id": message_id or wamid(),
        "timestamp": str(at if at is not None else int(time.time())),
        "type": kind,
        kind: content,
    }
    if context is not None:
        item["context"] = {"from": DISPLAY_NUMBER, "id": context}
    contacts = [{"profile": {"name": name}, "wa_id": sender}]
    return {**_value(phone_number_id), "contacts": contacts, "messages": [item]}


def text(sender: str, said: str, **kw: Any) -> dict[str, Any]:
    return message(sender, "text", {"body": said}, **kw)


def button_reply(sender: str, data: str, title: str, context: str, **kw: Any) -> dict[str, Any]:
    reply = {"type": "button_reply", "button_reply": {"id": data, "title": title}}
    return message(sender, "interactive", reply, context=context, **kw)


def list_reply(
    sender: str, data: str, title: str, context: str, description: str = "", **kw: Any
) -> dict[str, Any]:
    row = {"id": data, "title": title, **({"description": description} if description else {})}
    return message(
        sender, "interactive", {"type": "list_reply", "list_reply": row}, context=context, **kw
    )


def template_button(
    sender: str, payload: str, label: str, context: str, **kw: Any
) -> dict[str, Any]:
    """A tap on a template's quick-reply button."""
    return message(sender, "button", {"payload": payload, "text": label}, context=context, **kw)


MEDIA: dict[str, dict[str, Any]] = {
    "image": {"mime_type": "image/jpeg", "caption": "the box arrived like this"},
    "audio": {"mime_type": "audio/ogg; codecs=opus", "voice": True},
    "sticker": {"mime_type": "image/webp", "animated": False},
    "document": {"mime_type": "application/pdf", "filename": "invoice.pdf"},
    "video": {"mime_type": "video/mp4"},
}


def media(sender: str, kind: str, **kw: Any) -> dict[str, Any]:
    n = next(_ids)
    sha = f"{n:064x}"
    content = {**MEDIA[kind], "sha256": sha, "id": str(1_000_000 + n)}
    return message(sender, kind, content, **kw)


def location(sender: str, **kw: Any) -> dict[str, Any]:
    return message(sender, "location", {"latitude": -23.55, "longitude": -46.63}, **kw)


def contacts(sender: str, phone: str, wa_id: str | None, **kw: Any) -> dict[str, Any]:
    card_phone = {"phone": phone, "type": "CELL", **({"wa_id": wa_id} if wa_id else {})}
    card = {"name": {"formatted_name": "Ana Souza", "first_name": "Ana"}, "phones": [card_phone]}
    return message(sender, "contacts", [card], **kw)


def reaction(sender: str, to: str, **kw: Any) -> dict[str, Any]:
    return message(sender, "reaction", {"message_id": to, "emoji": "👍"}, **kw)


def unsupported(sender: str, **kw: Any) -> dict[str, Any]:
    details = {"code": 131051, "title": "Message type unknown"}
    value = message(sender, "unsupported", {}, **kw)
    value["messages"][0].pop("unsupported")
    value["messages"][0]["errors"] = [details]
    return value


def status(
    sent_id: str,
    state: str,
    recipient: str,
    *,
    at: int | None = None,
    errors: Iterable[dict[str, Any]] = (),
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict[str, Any]:
    """One value holding one status of a message we sent."""
    item: dict[str, Any] = {
        "id": sent_id,
        "status": state,
        "timestamp": str(at if at is not None else int(time.time())),
        "recipient_id": recipient,
    }
    if state in ("sent", "delivered"):
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service"}
    if errors:
        item["errors"] = list(errors)
    return {**_value(phone_number_id), "statuses": [item]}


def failure(code: int, title: str, details: str) -> dict[str, Any]:
    """A status's error object."""
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }
