"""Kill ``postsale run`` at random moments: every customer still gets their invitation.

A 2,000-customer campaign is queued; a real ``python -m bot run`` process (channel,
scheduler and outbox sender, as in production) sends it to the fake Bot API server
on loopback (in this test process, recording every call), is SIGKILLed three times
and restarted. A message whose send reached the server but
whose "sent" commit did not happen before the kill is sent again: the documented
bound is ``concurrency`` duplicates per crash.

On WhatsApp the campaign is the scheduler's own: customers known only by their phone
(no linked chat) with a delivered order; the process gives each a chat by number,
queues the invitation and, the window never opened, sends it as the survey template
to the fake Cloud API.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bot.app import Database
from bot.delivery.limits import SendLimits
from storage.models import ChannelIdentity, Customer, Order, OutboxMessage
from tests.e2e.postsale_process import clean_env
from tests.fakes import cloud_api
from tests.fakes import wa_updates as wa
from tests.fakes.bot_api import TOKEN, FakeBotApi

CUSTOMERS = 2000
KILLS = 3
RATE = 400  # messages a second: the fake endpoint does not enforce Telegram's limits here
ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)


async def queue_campaign(db: Database) -> None:
    async with db.uow() as uow:
        await uow.session.execute(
            insert(Customer),
            [{"external_id": f"c{n}", "created_at": NOW} for n in range(CUSTOMERS)],
        )
        ids = (await uow.session.scalars(select(Customer.id).order_by(Customer.id))).all()
        await uow.session.execute(
            insert(OutboxMessage),
            [
                {
                    "channel": "telegram",
                    "chat_id": str(10_000 + n),
                    "customer_id": cid,
                    "purpose": "invitation",
                    "body": {"text": f"How likely are you to recommend us? ({n})"},
                    "status": "queued",
                    "created_at": NOW,
                    "attempts": 0,
                }
                for n, cid in enumerate(ids)
            ],
        )
        await uow.commit()


async def queued(db: Database) -> int:
    async with db.uow() as uow:
        query = select(func.count()).where(OutboxMessage.status == "queued")
        return int(await uow.session.scalar(query) or 0)


async def until_sent(db: Database, within: float = 60) -> None:
    """Wait until another process has sent everything queued."""
    async with asyncio.timeout(within):
        while await queued(db):  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.1)


async def start_sender(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_a_campaign_survives_three_kills_with_at_most_the_in_flight_duplicated(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'postsale.db'}"
    db = await Database.open(url)
    api = FakeBotApi()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TELEGRAM_API_URL": await api.start(),
        "BOT_TOKEN": TOKEN,
        "BOT_FRAMEWORK": os.environ.get("BOT_FRAMEWORK", "aiogram"),
        "SEND_RATE_GLOBAL": str(RATE),
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_URL": "",
        "INGEST_SECRET": "",
    }
    rng = random.Random()
    process: asyncio.subprocess.Process | None = None
    try:
        await queue_campaign(db)
        for _ in range(KILLS):
            before = len(api.sent())
            process = await start_sender(env)
            # Kill at a random moment once it is sending, not while it starts up.
            await api.wait_until(lambda b=before: len(api.sent()) >= b + 20, within=60)
            await asyncio.sleep(rng.uniform(0.05, 1.0))
            process.send_signal(signal.SIGKILL)
            await process.wait()
        process = await start_sender(env)
        await until_sent(db)
        process.send_signal(signal.SIGTERM)
        assert await process.wait() == 0
    finally:
        if process is not None and process.returncode is None:
            process.kill()
        await api.close()
        await db.close()

    per_chat = Counter(call.chat_id for call in api.sent())
    duplicates = sum(n - 1 for n in per_chat.values())
    bound = KILLS * SendLimits().concurrency
    print(
        f"\nkill test: {len(api.sent())} sendMessage for {CUSTOMERS} customers, "
        f"{duplicates} duplicates after {KILLS} SIGKILLs (bound {bound})"
    )
    assert set(per_chat) == {str(10_000 + n) for n in range(CUSTOMERS)}
    assert duplicates <= bound


async def test_two_processes_on_one_database_send_each_invitation_once(
    db_url: str, db: Database
) -> None:
    """The second process stands by; when the first stops, it takes the campaign over."""
    api = FakeBotApi()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "TELEGRAM_API_URL": await api.start(),
        "BOT_TOKEN": TOKEN,
        "SEND_RATE_GLOBAL": "100",  # slow enough for the two processes to overlap
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_URL": "",
        "INGEST_SECRET": "",
    }
    first = second = None
    try:
        await queue_campaign(db)
        first = await start_sender(env)
        await api.wait_until(lambda: len(api.sent()) >= 20, within=60)
        second = await start_sender(env)
        # Its sender runs once its channel starts (deleteWebhook): both are up for a while.
        await api.wait_until(lambda: len(api.of("deleteWebhook")) >= 2, within=60)
        await asyncio.sleep(1.0)
        first.send_signal(signal.SIGTERM)
        assert await first.wait() == 0
        left = await queued(db)
        await until_sent(db)
        second.send_signal(signal.SIGTERM)
        assert await second.wait() == 0
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
        await api.close()

    per_chat = Counter(call.chat_id for call in api.sent())
    assert left > 0, "the first process sent everything: nothing was handed over"
    assert set(per_chat) == {str(10_000 + n) for n in range(CUSTOMERS)}
    assert len(api.sent()) == CUSTOMERS, "a message went out twice"


def wa_number(n: int) -> str:
    return f"55119{n:08d}"  # a Brazilian mobile's digits: the chat id on WhatsApp


async def customers_known_by_phone(db: Database) -> None:
    """Customers with a phone and an order delivered two days ago: due for a survey."""
    now = datetime.now(UTC)  # the process schedules by the real clock
    async with db.uow() as uow:
        await uow.session.execute(
            insert(Customer),
            [
                {"external_id": f"w{n}", "phone": "+" + wa_number(n), "created_at": now}
                for n in range(CUSTOMERS)
            ],
        )
        ids = (await uow.session.scalars(select(Customer.id).order_by(Customer.id))).all()
        await uow.session.execute(
            insert(Order),
            [
                {
                    "external_id": f"w{n}-o1",
                    "customer_id": cid,
                    "purchased_at": now - timedelta(days=6),
                    "delivered_at": now - timedelta(days=2),
                    "created_at": now,
                    "updated_at": now,
                }
                for n, cid in enumerate(ids)
            ],
        )
        await uow.commit()


async def invitations(db: Database) -> list[tuple[str, str]]:
    async with db.reader() as uow:
        query = select(OutboxMessage.chat_id, OutboxMessage.status).where(
            OutboxMessage.channel == "whatsapp", OutboxMessage.purpose == "invitation"
        )
        return [(chat, status) for chat, status in (await uow.session.execute(query)).all()]


async def until_invited(db: Database, within: float = 120) -> None:
    """Wait until the process has queued and sent an invitation to every customer."""
    async with asyncio.timeout(within):
        while len(await invitations(db)) < CUSTOMERS or await queued(db):  # noqa: ASYNC110
            await asyncio.sleep(0.2)


async def test_a_whatsapp_campaign_survives_three_kills_each_customer_invited_once(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'postsale.db'}"
    db = await Database.open(url)
    api = cloud_api.FakeCloudApi()
    env = clean_env(
        DATABASE_URL=url,
        WHATSAPP_API_URL=await api.start(),
        WHATSAPP_TOKEN=cloud_api.TOKEN,
        WHATSAPP_PHONE_NUMBER_ID=wa.PHONE_NUMBER_ID,
        WHATSAPP_APP_SECRET=cloud_api.APP_SECRET,
        WHATSAPP_VERIFY_TOKEN=cloud_api.VERIFY_TOKEN,
        WHATSAPP_SEND_RATE=str(RATE),
        HTTP_PORT="0",  # the webhook's server: any free port
        CONTACT_WINDOW="00:00-24:00",  # whenever the test runs
        DEFAULT_LOCALE="en",
        LOG_LEVEL="WARNING",
    )
    rng = random.Random()
    process: asyncio.subprocess.Process | None = None
    try:
        await customers_known_by_phone(db)
        for _ in range(KILLS):
            before = api.delivered()
            process = await start_sender(env)
            await api.wait_until(lambda b=before: api.delivered() >= b + 20, within=60)
            await asyncio.sleep(rng.uniform(0.05, 1.0))
            process.send_signal(signal.SIGKILL)
            await process.wait()
        reached = {m["to"] for m in api.messages()}
        process = await start_sender(env)
        await until_invited(db)
        process.send_signal(signal.SIGTERM)
        assert await process.wait() == 0
        rows = await invitations(db)
        async with db.reader() as uow:
            chats = (await uow.session.scalars(select(ChannelIdentity.chat_id))).all()
    finally:
        if process is not None and process.returncode is None:
            process.kill()
        await api.close()
        await db.close()

    sent = api.messages()
    per_number = Counter(str(m["to"]) for m in sent)
    duplicates = sum(n - 1 for n in per_number.values())
    bound = KILLS * SendLimits().concurrency
    print(
        f"\nwhatsapp kill test: {len(sent)} templates for {CUSTOMERS} customers, "
        f"{duplicates} duplicates after {KILLS} SIGKILLs (bound {bound})"
    )
    numbers = {wa_number(n) for n in range(CUSTOMERS)}
    assert len(reached) < CUSTOMERS, "the kills came after the campaign was done"
    assert sorted(chat for chat, _ in rows) == sorted(numbers), "one invitation each, queued once"
    assert {status for _, status in rows} == {"sent"}
    assert sorted(chats) == sorted(numbers)
    assert {m["type"] for m in sent} == {"template"}
    assert {m["template"]["name"] for m in sent} == {"postsale_survey"}
    assert set(per_number) == numbers
    assert duplicates <= bound
