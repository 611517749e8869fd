"""``postsale link`` and ``postsale outbox`` against a real database."""

from __future__ import annotations

import argparse
import csv
import io
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestServer

from bot.app import Database
from bot.entrypoints.commands import link, outbox
from bot.settings import Settings
from storage.links import redeem_token
from storage.models import FollowUp, OutboxMessage
from storage.outbox import enqueue
from storage.outbox_body import OutboxBody
from tests.integration.outbox_fakes import ScriptedBotApi
from tests.integration.scheduling_helpers import add_customer, add_order

NOW = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)


def settings_for(db_url: str, **values: str) -> Settings:
    return Settings(_env_file=None, database_url=db_url, **values)  # type: ignore[call-arg]


COMMANDS = {"link": link, "outbox": outbox}


async def command(argv: list[str], settings: Settings) -> int:
    """Parse and run one sub-command as ``postsale`` would."""
    module = COMMANDS[argv[0]]
    parser = argparse.ArgumentParser(prog=f"postsale {argv[0]}")
    module.add_arguments(parser)
    return int(await module.run(parser.parse_args(argv[1:]), settings))


async def test_link_prints_a_deep_link_that_links_the_customer(
    db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    customer = await add_customer(db, "c-42", now=NOW)

    code = await command(["link", "c-42"], settings_for(db_url, bot_username="shop_bot"))

    out = capsys.readouterr().out.strip()
    assert code == 0
    assert out.startswith("https://t.me/shop_bot?start=")
    token = out.split("=", 1)[1]
    async with db.uow() as uow:
        result = await redeem_token(
            uow.session,
            token,
            channel="telegram",
            chat_id="7",
            user_id="7",
            language_code=None,
            now=NOW,
        )
    assert (result.outcome, result.customer_id) == ("linked", customer)


async def test_link_for_an_unknown_customer_says_so_and_exits_1(
    db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await command(["link", "nobody"], settings_for(db_url, bot_username="shop_bot"))

    assert code == 1
    assert "no customer with id 'nobody'" in capsys.readouterr().err


async def test_the_bot_username_is_asked_of_the_bot_api_once_and_kept(
    db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await add_customer(db, "c-1", now=NOW)
    api = ScriptedBotApi()
    server = TestServer(api.app(), host="127.0.0.1")
    await server.start_server()
    settings = settings_for(
        db_url, bot_token="123:ABC", telegram_api_url=str(server.make_url("")).rstrip("/")
    )
    try:
        first = await command(["link", "c-1"], settings)
        second = await command(["link", "c-1"], settings)
    finally:
        await server.close()

    lines = capsys.readouterr().out.split()
    assert (first, second) == (0, 0)
    assert all(line.startswith("https://t.me/postsale_test_bot?start=") for line in lines)
    assert lines[0] == lines[1]  # the unused token is reused
    assert api.get_me_calls == 1


async def test_link_pending_lists_delivered_customers_without_a_chat_with_links(
    db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    waiting = await add_customer(db, "c-1", now=NOW, name="Ana", phone="+5511987654321")
    linked = await add_customer(db, "c-2", now=NOW, chat_id="100")
    for customer, order in ((waiting, "o1"), (linked, "o2")):
        order_id = await add_order(db, order, customer, delivered_at=NOW)
        async with db.uow() as uow:
            uow.session.add(
                FollowUp(order_id=order_id, customer_id=customer, status="pending", due_at=NOW)
            )
            await uow.commit()

    code = await command(["link", "--pending"], settings_for(db_url, bot_username="shop_bot"))

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert code == 0
    assert [(r["customer_id"], r["name"], r["phone"], r["pending"]) for r in rows] == [
        ("c-1", "Ana", "+5511987654321", "1")
    ]
    assert rows[0]["link"].startswith("https://t.me/shop_bot?start=")


async def test_outbox_shows_counts_and_the_latest_failures_with_reasons(
    db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with db.uow() as uow:
        for n in range(3):
            await enqueue(
                uow.session,
                channel="telegram",
                chat_id=str(n),
                body=OutboxBody(text=f"m{n}"),
                purpose="invitation",
                now=NOW,
            )
        await uow.commit()
    async with db.uow() as uow:
        row = await uow.session.get(OutboxMessage, 2)
        assert row is not None
        row.status, row.failed_at, row.error = "failed", NOW, "blocked: bot was blocked"
        await uow.commit()

    assert await command(["outbox"], settings_for(db_url)) == 0
    summary = capsys.readouterr().out
    assert await command(["outbox", "--failed"], settings_for(db_url)) == 0
    failed = capsys.readouterr().out

    assert "queued 2  sent 0  failed 1" in summary
    assert "reason: blocked: bot was blocked" in summary
    assert failed.count("\n") == 1 and failed.startswith("#2 2024-03-05 15:00:00Z telegram:1")
