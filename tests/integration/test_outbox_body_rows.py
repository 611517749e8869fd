"""Rows written as plain dicts (before the typed body) and rows the typed writers write
read alike, store the same JSON, and are handled alike by /forget and by a failed upload.

On SQLite and PostgreSQL: the JSON goes through each database's JSON column.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from bot.app import Database
from bot.i18n import render
from flows.replies import say
from flows.staff import EXPORT_CAPTION
from storage.data_rights import forget_customer
from storage.models import Message, OutboxMessage
from storage.outbox import enqueue
from storage.outbox_body import BodyButton, OutboxBody
from storage.outbox_retry import has_attachment, move_attachment_behind
from storage.outbox_state import chat_heads
from tests.builders import customer_with_delivered_order

NOW = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)
BUTTONS = [[{"text": "Open #4", "data": "op:t:4"}, {"text": "Assign to me", "data": "op:asg:4"}]]


def old_export(path: str) -> dict[str, Any]:
    """/mydata's body as the dict-building code wrote it (i18n.render, then update)."""
    return {
        "text": render(say(EXPORT_CAPTION), "en").text,
        "buttons": [],
        "request_contact": False,
        "document_path": path,
        "document_name": "mydata.json",
        "discard_after_send": True,
    }


def new_export(path: str) -> OutboxBody:
    """/mydata's body as bot.engine.effects builds it now."""
    caption = render(say(EXPORT_CAPTION), "en")
    return replace(
        caption, document_path=path, document_name="mydata.json", discard_after_send=True
    )


async def insert_plain(db: Database, chat_id: str, body: dict[str, Any]) -> None:
    """A row as older code wrote it: its body a plain dict, straight into the table."""
    async with db.uow() as uow:
        await uow.session.execute(
            insert(OutboxMessage).values(
                channel="telegram",
                chat_id=chat_id,
                purpose="operator",
                body=body,
                status="queued",
                created_at=NOW,
                attempts=0,
                unknowns=0,
            )
        )
        await uow.commit()


async def insert_typed(db: Database, chat_id: str, body: OutboxBody) -> None:
    async with db.uow() as uow:
        await enqueue(
            uow.session, channel="telegram", chat_id=chat_id, body=body, purpose="operator", now=NOW
        )
        await uow.commit()


async def stored(db: Database) -> dict[str, dict[str, Any]]:
    async with db.reader() as uow:
        rows = await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return {row.chat_id: row.body for row in rows}


@pytest.mark.parametrize(
    ("old", "new", "written"),
    [
        (
            {"text": "Hi", "buttons": [], "request_contact": False},
            render(say("Hi"), "en"),
            '{"text": "Hi"}',
        ),
        (
            {"text": "🆕 New ticket #4", "buttons": BUTTONS, "customer_ref": 7},
            OutboxBody(
                "🆕 New ticket #4",
                ((BodyButton("Open #4", "op:t:4"), BodyButton("Assign to me", "op:asg:4")),),
                customer_ref=7,
            ),
            '{"text": "🆕 New ticket #4", "buttons": [[{"text": "Open #4", "data": "op:t:4"}, '
            '{"text": "Assign to me", "data": "op:asg:4"}]], "customer_ref": 7}',
        ),
        (
            {"text": "Scores", "chart": {"kind": "weekly_scores", "nps": [None, 12.5]}},
            OutboxBody("Scores", chart={"kind": "weekly_scores", "nps": [None, 12.5]}),
            '{"text": "Scores", "chart": {"kind": "weekly_scores", "nps": [null, 12.5]}}',
        ),
        (
            old_export("/data/exports/7/mydata.json"),
            new_export("/data/exports/7/mydata.json"),
            '{"text": "Your data, as a JSON file.", '
            '"document_path": "/data/exports/7/mydata.json", "document_name": "mydata.json", '
            '"discard_after_send": true}',
        ),
    ],
    ids=["reply", "announcement", "chart", "export"],
)
async def test_a_plain_row_and_a_typed_row_read_alike_and_hold_the_same_json(
    db: Database, old: dict[str, Any], new: OutboxBody, written: str
) -> None:
    await insert_plain(db, "old", old)
    await insert_typed(db, "new", new)
    rows = await stored(db)
    assert rows["old"] == old  # an old row is read as it was written
    assert OutboxBody.from_json(rows["old"]) == OutboxBody.from_json(rows["new"]) == new
    assert json.dumps(rows["new"], ensure_ascii=False) == written
    assert json.dumps(OutboxBody.from_json(rows["old"]).to_json(), ensure_ascii=False) == written


async def test_forget_finds_the_customer_in_plain_rows_and_in_typed_ones(db: Database) -> None:
    customer_id, _, _ = await customer_with_delivered_order(db)
    shows = {
        "text": "🆕 New ticket #4 · Ana Souza",
        "buttons": BUTTONS,
        "customer_ref": customer_id,
    }
    await insert_plain(db, "old", shows)
    await insert_typed(db, "new", OutboxBody(shows["text"], customer_ref=customer_id))
    await insert_typed(db, "other", OutboxBody("Somebody else", customer_ref=customer_id + 1))
    async with db.uow() as uow:
        await forget_customer(uow.session, customer_id, NOW)
        await uow.commit()
    rows = await stored(db)
    assert set(rows) == {"other"}  # both queued messages showing Ana are gone
    assert rows["other"]["customer_ref"] == customer_id + 1


async def test_the_transcript_keeps_the_typed_customer_ref_for_forget(db: Database) -> None:
    body = OutboxBody("Ticket #4 · Ana Souza", customer_ref=3)
    assert body.transcript_payload() == {"customer_ref": 3}
    assert render(say("Hi"), "en").transcript_payload() is None  # text alone: no payload
    customer_id, _, _ = await customer_with_delivered_order(db)
    async with db.uow() as uow:
        uow.session.add(
            Message(
                channel="telegram",
                chat_id="ops",
                direction="out",
                text=body.text,
                payload=replace(body, customer_ref=customer_id).transcript_payload(),
                at=NOW,
            )
        )
        await uow.commit()
    async with db.uow() as uow:
        report = await forget_customer(uow.session, customer_id, NOW)
        await uow.commit()
    assert report.messages == 1
    async with db.reader() as uow:
        line = await uow.session.scalar(select(Message).where(Message.chat_id == "ops"))
    assert line is not None and (line.text, line.payload) == (None, None)


@pytest.mark.parametrize("writer", ["plain", "typed"])
async def test_a_failed_upload_moves_only_its_attachment_from_either_kind_of_row(
    db: Database, writer: str
) -> None:
    path = "/data/exports/7/mydata.json"
    if writer == "plain":
        await insert_plain(db, "100", old_export(path))
    else:
        await insert_typed(db, "100", new_export(path))
    async with db.uow() as uow:
        (head,) = await chat_heads(uow.session, {"telegram"}, 10)
        assert has_attachment(head.body)
        kept = await move_attachment_behind(
            uow.session, head, attempts=1, error="upload failed", not_before=NOW + timedelta(1)
        )
        await uow.commit()
    assert kept == {"text": "Your data, as a JSON file."}
    async with db.reader() as uow:
        rows = list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [row.body for row in rows] == [
        {"text": "Your data, as a JSON file."},
        {"document_path": path, "document_name": "mydata.json", "discard_after_send": True},
    ]
    assert not has_attachment(rows[0].body) and has_attachment(rows[1].body)


def test_a_malformed_body_has_no_attachment_to_move() -> None:
    assert not has_attachment({"text": "x", "buttons": [5], "photo_path": "/p.png"})
