"""The outbox through the real aiogram and ptb code while the Bot API has an outage.

``FakeBotApi.fault`` plays 500s, a proxy's 502 pages, requests held unanswered, dropped
connections and unreadable answers for a while, then recovers: every message is delivered once, in
its chat's order. A delivery whose answer is lost is repeated at most once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Database
from bot.channels.port import Incoming
from bot.channels.telegram.factory import TelegramChannel, build_telegram_channel
from bot.delivery.limits import SendLimits
from bot.delivery.sender import OutboxSender
from storage.models import OutboxMessage
from storage.outbox import enqueue
from storage.outbox_body import OutboxBody
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import telegram_settings

NOW = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)
QUICK = SendLimits(
    global_rate=500, per_chat_rate=100, backoff_base=0.05, backoff_max=0.2, poll_interval=0.05
)
CHATS = ("101", "102", "103", "104")


async def ignore(incoming: Incoming) -> None:
    return None


@pytest.fixture(params=["aiogram", "ptb"])
async def telegram(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[FakeBotApi, TelegramChannel]]:
    api = FakeBotApi()
    url = await api.start()
    channel = build_telegram_channel(
        telegram_settings(url, request.param), ignore, poll_timeout=5.0, send_timeout=1.0
    )
    await channel.start()
    try:
        yield api, channel
    finally:
        await channel.stop()
        await channel.close()
        await api.close()


def moving_clock() -> Callable[[], datetime]:
    """The wall clock as the sender sees it: NOW, moving on with real time."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    return lambda: NOW + timedelta(seconds=loop.time() - started)


async def queue(db: Database, messages: list[tuple[str, str | dict[str, Any]]]) -> None:
    async with db.uow() as uow:
        for chat_id, body in messages:
            await enqueue(
                uow.session,
                channel="telegram",
                chat_id=chat_id,
                body=OutboxBody(text=body) if isinstance(body, str) else OutboxBody.from_json(body),
                purpose="invitation",
                now=NOW,
            )
        await uow.commit()


async def statuses(db: Database) -> list[str]:
    async with db.reader() as uow:
        query = select(OutboxMessage.status).order_by(OutboxMessage.id)
        return list((await uow.session.scalars(query)).all())


async def send_all(db: Database, channel: TelegramChannel) -> OutboxSender:
    sender = OutboxSender(db, {"telegram": channel}, QUICK, clock=moving_clock())
    await asyncio.wait_for(sender.run(until_idle=True), 30)
    return sender


@pytest.mark.parametrize("kind", ["error", "bad_gateway", "timeout", "drop", "garbage"])
async def test_after_an_outage_every_message_is_delivered_once_in_its_chats_order(
    db: Database, telegram: tuple[FakeBotApi, TelegramChannel], kind: str
) -> None:
    api, channel = telegram
    wanted = {chat: [f"{chat}-{n}" for n in range(3)] for chat in CHATS}
    await queue(db, [(chat, wanted[chat][n]) for n in range(3) for chat in CHATS])
    api.fault(kind, seconds=1.0)

    sender = await send_all(db, channel)

    assert sender.stats.retried >= len(CHATS)  # every chat felt the outage
    assert await statuses(db) == ["sent"] * 12
    for chat in CHATS:
        assert api.delivered_texts(chat) == wanted[chat]
    assert api.arrived[0].at >= api.faults[0].until  # type: ignore[operator]
    # A lost answer's one retry waits for getMe to be answered; an error page is no
    # lost answer: nothing to wait for.
    lost = kind in ("timeout", "drop", "garbage")
    assert (len(api.of("getMe")) > 1) == lost


async def test_a_delivery_whose_answer_is_lost_is_repeated_once_then_kept_as_unknown(
    db: Database, telegram: tuple[FakeBotApi, TelegramChannel]
) -> None:
    api, channel = telegram
    api.fault("lost_answer", times=2, methods={"sendMessage"})
    await queue(db, [("101", "first"), ("101", "second")])

    sender = await send_all(db, channel)

    assert api.delivered_texts("101") == ["first", "first", "second"]
    assert await statuses(db) == ["unknown", "sent"]
    assert sender.stats.unknown == 1
    async with db.reader() as uow:
        first = await uow.session.get(OutboxMessage, 1)
        assert first is not None and first.error is not None
        assert "maybe delivered" in first.error


@pytest.mark.parametrize("method", ["sendMessage", "sendPhoto"])
async def test_an_answer_saying_sent_that_cannot_be_read_is_sent_and_never_repeated(
    db: Database, telegram: tuple[FakeBotApi, TelegramChannel], tmp_path: Path, method: str
) -> None:
    api, channel = telegram
    photo = tmp_path / "chart.png"
    photo.write_bytes(b"\x89PNG chart")
    body: dict[str, Any] = {"text": "NPS by week"}
    if method == "sendPhoto":
        body["photo_path"] = str(photo)
    api.fault("bad_date", times=5, methods={method})
    await queue(db, [("101", body), ("101", "after")])

    sender = await send_all(db, channel)

    assert api.delivered_texts("101") == ["NPS by week", "after"]
    assert await statuses(db) == ["sent", "sent"]
    assert (sender.stats.sent, sender.stats.retried) == (2, 0)


@pytest.mark.parametrize(
    ("method", "key"), [("sendPhoto", "photo_path"), ("sendDocument", "document_path")]
)
async def test_a_failing_attachment_lets_its_text_and_the_chats_later_messages_go_first(
    db: Database,
    telegram: tuple[FakeBotApi, TelegramChannel],
    tmp_path: Path,
    method: str,
    key: str,
) -> None:
    api, channel = telegram
    attachment = tmp_path / "kpi.png"
    attachment.write_bytes(b"\x89PNG chart")
    api.fault("error", times=2, methods={method})
    await queue(db, [("101", {"text": "NPS by week", key: str(attachment)}), ("101", "later")])
    # A second's retry interval: the later message must not wait for it.
    limits = SendLimits(global_rate=500, per_chat_rate=100, backoff_base=1.0, poll_interval=0.05)
    sender = OutboxSender(db, {"telegram": channel}, limits, clock=moving_clock())

    await asyncio.wait_for(sender.run(until_idle=True), 30)

    delivered = [(c.method, c.text) for c in api.arrived]
    assert delivered == [("sendMessage", "NPS by week"), ("sendMessage", "later"), (method, "")]
    first_failure = api.of(method)[0].at
    assert api.arrived[1].at - first_failure < 0.5
    assert await statuses(db) == ["sent", "sent", "sent"]
