"""The id a channel's server gave a sent message is kept whole (receipts find the row by it)."""

from __future__ import annotations

from bot.app import Database
from storage.models import OutboxMessage
from storage.outbox_state import mark_sent
from storage.receipts import record_receipt
from tests.builders import Clock


async def test_a_wamid_longer_than_64_characters_is_kept_whole_and_its_status_found(
    db: Database,
) -> None:
    clock = Clock()
    wamid = "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjdBRTA5QkQ4MjhGN0YyNkFGRQA" + "x" * 40
    assert len(wamid) > 64
    async with db.uow() as uow:
        row = OutboxMessage(
            channel="whatsapp", chat_id="551187654321", purpose="reply", body={"text": "hi"},
            status="queued", created_at=clock(),
        )  # fmt: skip
        uow.session.add(row)
        await uow.commit()
        row_id = row.id
    async with db.uow() as uow:
        await mark_sent(uow.session, [(row_id, wamid)], clock())
        await uow.commit()
    async with db.uow() as uow:
        assert await record_receipt(uow.session, "whatsapp", wamid, "delivered", clock())
        await uow.commit()
    async with db.uow() as uow:
        stored = await uow.session.get(OutboxMessage, row_id)
    assert stored is not None
    assert (stored.status, stored.remote_id, stored.receipt) == ("sent", wamid, "delivered")
