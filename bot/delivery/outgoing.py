"""From an outbox row's body to the ``Outgoing`` a channel sends, within what it can show."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.channels.pickers import first_level, needs_picker
from bot.channels.port import Capabilities, Outgoing, Rejected
from storage.outbox_body import OutboxBody


def body_of_row(body: OutboxBody | Mapping[str, Any]) -> OutboxBody:
    """The typed body of a row; a malformed one is ``Rejected`` (retrying cannot help)."""
    if isinstance(body, OutboxBody):
        return body
    try:
        return OutboxBody.from_json(body)
    except ValueError as exc:
        raise Rejected(str(exc)) from exc


def to_outgoing(
    chat_id: str,
    body: OutboxBody | Mapping[str, Any],
    *,
    purpose: str = "reply",
    row_id: int | None = None,
) -> Outgoing:
    """The ``Outgoing`` for an outbox body; a malformed body or a gone file is ``Rejected``."""
    typed = body_of_row(body)
    for path in typed.files:
        if not os.path.isfile(path):
            # Exports are deleted after EXPORT_TTL and on /forget: retrying cannot help.
            raise Rejected(f"the file to send is gone: {path}")
    return Outgoing(
        chat_id=chat_id,
        text=typed.text,
        buttons=typed.buttons,
        request_contact=typed.request_contact,
        contact_label=typed.contact_label,
        remove_keyboard=typed.remove_keyboard,
        photo_path=typed.photo_path,
        document_path=typed.document_path,
        document_name=typed.document_name,
        edit_message_id=typed.edit_message_id,
        purpose=purpose,
        row_id=row_id,
    )


def fit(message: Outgoing, can: Capabilities) -> Outgoing:
    """``message`` as the channel can show it: rows wider than it allows are wrapped.

    More buttons than a message may carry become a two-tap picker where the channel
    has lists (``bot.channels.pickers``); elsewhere that is a flow's mistake, not the
    network's: ``Rejected`` names it rather than dropping buttons the customer needs.
    """
    rows = message.buttons
    most = can.buttons_per_message
    if can.list_messages and message.row_id is not None and needs_picker(rows, most):
        message = replace(message, buttons=first_level(rows, message.row_id))
    count = sum(len(row) for row in message.buttons)
    if count > can.buttons_per_message:
        raise Rejected(f"{count} buttons; the channel shows at most {can.buttons_per_message}")
    width = can.buttons_per_row
    if all(len(row) <= width for row in message.buttons):
        return message
    rows = tuple(row[i : i + width] for row in message.buttons for i in range(0, len(row), width))
    return replace(message, buttons=rows)


__all__ = ["body_of_row", "fit", "to_outgoing"]
