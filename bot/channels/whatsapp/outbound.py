"""``Outgoing`` messages as Cloud API message objects (pure: no I/O).

Up to 3 buttons whose labels fit 20 characters go as reply buttons; otherwise up to
10 as a list, whose rows show 24 characters (a longer label is cut with "…" and given
whole as the row's description). An interactive body holds 1024 characters: a longer
text goes first as text, and the buttons follow under a short body. Text is split at
4096 characters, between lines or words where it can be.
"""

from __future__ import annotations

from typing import Any

from bot.channels.port import OutButton, Outgoing, Rejected

MAX_TEXT = 4096
MAX_BODY = 1024
MAX_CAPTION = 1024
MAX_REPLY_BUTTONS = 3
MAX_REPLY_TITLE = 20
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_LIST_BUTTON = 20
ELLIPSIS = "…"

Message = dict[str, Any]


def envelope(to: str, kind: str, content: dict[str, Any]) -> Message:
    """A message object to ``to`` (a wa_id) of ``kind`` ("text", "interactive", ...)."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: content,
    }


def split_text(text: str, size: int = MAX_TEXT) -> list[str]:
    """``text`` in parts of at most ``size`` characters, cut at a newline or a space."""
    parts: list[str] = []
    while len(text) > size:
        cut = max(text.rfind("\n", 0, size + 1), text.rfind(" ", 0, size + 1))
        cut = cut if cut > size // 2 else size
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text] if text or not parts else parts


def text_messages(to: str, text: str) -> list[Message]:
    return [envelope(to, "text", {"preview_url": False, "body": p}) for p in split_text(text)]


def buttons_of(message: Outgoing) -> list[OutButton]:
    """Every button, row after row: WhatsApp lays them out itself."""
    found = [button for row in message.buttons for button in row]
    if len(found) > MAX_ROWS:
        raise Rejected(f"{len(found)} buttons: a WhatsApp message shows at most {MAX_ROWS}")
    return found


def shorten(label: str, size: int) -> str:
    return label if len(label) <= size else label[: size - 1] + ELLIPSIS


def interactive(to: str, body: str, buttons: list[OutButton], list_label: str) -> Message:
    """Reply buttons when they fit, else a list opened by ``list_label``."""
    if len(buttons) <= MAX_REPLY_BUTTONS and all(len(b.text) <= MAX_REPLY_TITLE for b in buttons):
        replies = [{"type": "reply", "reply": {"id": b.data, "title": b.text}} for b in buttons]
        content: dict[str, Any] = {
            "type": "button",
            "body": {"text": body},
            "action": {"buttons": replies},
        }
        return envelope(to, "interactive", content)
    rows = []
    for button in buttons:
        row = {"id": button.data, "title": shorten(button.text, MAX_ROW_TITLE)}
        if len(button.text) > MAX_ROW_TITLE:
            row["description"] = shorten(button.text, MAX_ROW_DESCRIPTION)
        rows.append(row)
    action = {"button": shorten(list_label, MAX_LIST_BUTTON), "sections": [{"rows": rows}]}
    content = {"type": "list", "body": {"text": body}, "action": action}
    return envelope(to, "interactive", content)


def free_form(message: Outgoing, list_label: str) -> list[Message]:
    """The message objects of a message without a file, in the order they go."""
    buttons = buttons_of(message)
    if not buttons:
        return text_messages(message.chat_id, message.text)
    if message.text and len(message.text) <= MAX_BODY:
        return [interactive(message.chat_id, message.text, buttons, list_label)]
    # Too long for a body (or none at all): the text first, the buttons under a short one.
    lead = text_messages(message.chat_id, message.text) if message.text else []
    return [*lead, interactive(message.chat_id, list_label, buttons, list_label)]


def media(to: str, kind: str, media_id: str, caption: str, filename: str | None) -> Message:
    """An uploaded image or document, with its caption (and a document's file name)."""
    content: dict[str, Any] = {"id": media_id}
    if caption:
        content["caption"] = caption
    if filename:
        content["filename"] = filename
    return envelope(to, kind, content)


def template(to: str, name: str, language: str, row_id: int | None) -> Message:
    """An approved template; its quick reply carries ``open:<row>`` (the row to send once
    the person taps it and the window is open)."""
    content: dict[str, Any] = {"name": name, "language": {"code": language}}
    if row_id is not None:
        payload = {"type": "payload", "payload": f"open:{row_id}"}
        button = {"type": "button", "sub_type": "quick_reply", "index": "0"}
        content["components"] = [{**button, "parameters": [payload]}]
    return envelope(to, "template", content)


def read_mark(message_id: str) -> Message:
    """Marks a received message read (the person sees blue ticks)."""
    return {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
