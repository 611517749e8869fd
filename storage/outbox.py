"""The outbox: messages written in the same transaction as the state that caused them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage


def message_body(
    text: str,
    *,
    buttons: list[list[dict[str, str]]] | None = None,
    request_contact: bool = False,
    remove_keyboard: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """The JSON body of an outbox row; ``buttons`` rows of ``{"text", "data"}``."""
    body: dict[str, Any] = {"text": text}
    if buttons:
        body["buttons"] = buttons
    if request_contact:
        body["request_contact"] = True
    if remove_keyboard:
        body["remove_keyboard"] = True
    body.update(extra)
    return body


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    body: dict[str, Any],
    purpose: str,
    now: datetime,
    customer_id: int | None = None,
    not_before: datetime | None = None,
    flush: bool = True,
) -> OutboxMessage:
    """Queue one message; it is sent only once the surrounding transaction commits.

    ``flush=False`` leaves the row to the next flush (its ``id`` is unset until then),
    so that the replies of one update are written in one statement.
    """
    row = OutboxMessage(
        channel=channel,
        chat_id=chat_id,
        customer_id=customer_id,
        purpose=purpose,
        body=body,
        status="queued",
        created_at=now,
        not_before=not_before,
        attempts=0,
    )
    session.add(row)
    if flush:
        await session.flush()
    return row
