"""The outbox sender asks each channel what it can do and how fast it may go."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import Database
from bot.channels.port import Capabilities, ChannelLimits, Outgoing
from bot.delivery.sender import OutboxSender
from bot.settings import Settings
from storage.models import OutboxMessage
from storage.outbox import enqueue
from storage.outbox_body import BodyButton, OutboxBody
from tests.builders import T0

PLAIN = Capabilities(buttons_per_message=10, buttons_per_row=3)
FAST = ChannelLimits(global_rate=1000.0, per_chat_rate=1000.0, group_per_minute=600.0)


@dataclass
class MemoryChannel:
    """A channel of our own port that keeps what it was asked to send, and when."""

    name: str
    capabilities: Capabilities = PLAIN
    limits: ChannelLimits = FAST
    sent: list[tuple[float, Outgoing]] = field(default_factory=list)

    def is_group(self, chat_id: str) -> bool:
        return chat_id.startswith("group")

    async def send(self, message: Outgoing) -> str:
        self.sent.append((asyncio.get_running_loop().time(), message))
        return str(len(self.sent))


async def queue(db: Database, channel: str, chat_id: str, *bodies: OutboxBody) -> None:
    async with db.uow() as uow:
        for body in bodies:
            await enqueue(
                uow.session, channel=channel, chat_id=chat_id, body=body, purpose="reply", now=T0
            )
        await uow.commit()


async def send_all(db: Database, *channels: MemoryChannel, **settings_: Any) -> OutboxSender:
    settings = Settings(_env_file=None, **settings_)  # type: ignore[call-arg]
    sender = OutboxSender(db, {c.name: c for c in channels}, settings, lambda: T0)
    async with asyncio.timeout(20):
        await sender.run(until_idle=True)
    return sender


async def statuses(db: Database) -> list[str]:
    async with db.uow() as uow:
        return list(await uow.session.scalars(select(OutboxMessage.status)))


async def test_rows_go_to_the_channel_they_name(sqlite_db: Database) -> None:
    console, other = MemoryChannel("console"), MemoryChannel("other")
    await queue(sqlite_db, "console", "customer", OutboxBody(text="to the console"))
    await queue(sqlite_db, "other", "42", OutboxBody(text="to the other one"))
    await send_all(sqlite_db, console, other)
    assert [m.text for _, m in console.sent] == ["to the console"]
    assert [(m.chat_id, m.text) for _, m in other.sent] == [("42", "to the other one")]


async def test_a_channels_own_rates_pace_it_and_only_its_groups_go_per_minute(
    sqlite_db: Database,
) -> None:
    slow_groups = ChannelLimits(global_rate=1000.0, per_chat_rate=1000.0, group_per_minute=15.0)
    channel = MemoryChannel("memory", limits=slow_groups)
    await queue(sqlite_db, "memory", "private", *(OutboxBody(text=f"p{n}") for n in range(2)))
    await queue(sqlite_db, "memory", "group-1", *(OutboxBody(text=f"g{n}") for n in range(2)))
    await send_all(sqlite_db, channel, send_rate_per_chat=0.2)

    def gap(chat: str) -> float:
        first, second = [t for t, m in channel.sent if m.chat_id == chat]
        return second - first

    # Not SEND_RATE_PER_CHAT's one in five seconds: the channel allows 1000 a second
    # (what is left is the sender's poll of the outbox, a second at most).
    assert gap("private") < 2.5
    # 15 a minute to what the channel calls a group: 4 s apart, less the pacing's safety.
    assert gap("group-1") >= 3.8


async def test_rows_wider_than_the_channel_shows_are_wrapped(sqlite_db: Database) -> None:
    channel = MemoryChannel("memory")
    row = tuple(BodyButton(str(n), f"n:{n}") for n in range(5))
    await queue(sqlite_db, "memory", "private", OutboxBody(text="Pick", buttons=(row,)))
    await send_all(sqlite_db, channel)
    [(_, message)] = channel.sent
    assert [[b.text for b in r] for r in message.buttons] == [["0", "1", "2"], ["3", "4"]]


async def test_more_buttons_than_a_message_may_carry_fail_with_the_reason(
    sqlite_db: Database,
) -> None:
    channel = MemoryChannel("memory")
    rows = tuple((BodyButton(str(n), f"n:{n}"),) for n in range(11))
    await queue(sqlite_db, "memory", "private", OutboxBody(text="Pick", buttons=rows))
    await send_all(sqlite_db, channel)
    assert channel.sent == []
    async with sqlite_db.uow() as uow:
        [row] = list(await uow.session.scalars(select(OutboxMessage)))
    assert row.status == "failed" and "at most 10" in str(row.error)


async def test_an_edit_the_channel_cannot_make_is_skipped_not_failed(sqlite_db: Database) -> None:
    channel = MemoryChannel("memory")  # PLAIN: no edits
    await queue(sqlite_db, "memory", "private", OutboxBody(edit_message_id="7"))
    await send_all(sqlite_db, channel)
    assert channel.sent == []
    assert await statuses(sqlite_db) == ["sent"]


async def test_a_file_shown_by_path_is_kept_and_an_uploaded_one_deleted(
    sqlite_db: Database, tmp_path: Path
) -> None:
    shows = MemoryChannel("shows", capabilities=Capabilities(10, 3, uploads_files=False))
    uploads = MemoryChannel("uploads")
    files: dict[str, Any] = {}
    for name in ("shows", "uploads"):
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text("{}", encoding="utf-8")
        body = OutboxBody(text="Your data", document_path=str(files[name]), discard_after_send=True)
        await queue(sqlite_db, name, "private", body)
    await send_all(sqlite_db, shows, uploads)
    assert len(shows.sent) == len(uploads.sent) == 1
    assert files["shows"].exists()  # the console shows the path: the sweep removes it later
    assert not files["uploads"].exists()
