"""The web admin served as ``postsale run`` serves it, for the HTTP and browser tests.

The real Telegram adapter (aiogram) polls ``FakeBotApi``, the real engine and outbox
sender run on the test's database, and the HTTP server is ``start_http_server`` with
the admin wired to the stack's messenger and sender. Sign-in links come from ``/web``
sent to the bot, as an operator gets them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bot.app import Database
from bot.entrypoints.http.admin import AdminWiring
from bot.entrypoints.http.app import start_http_server
from storage.models import Customer, SurveyResponse, Ticket
from tests.builders import customer_with_delivered_order
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import BotStack, telegram_settings

OPERATOR, ADMIN, CUSTOMER, STRANGER = 900, 901, 100, 555
SECRET = "a-web-secret-for-the-tests-0123456789"
LINK = re.compile(r"(https?://\S+/admin/login\?token=(\S+))")


@dataclass
class Site:
    stack: BotStack
    http: web.AppRunner
    db: Database

    @property
    def base(self) -> str:
        host, port = self.http.addresses[0][:2]
        return f"http://{host}:{port}"

    @property
    def api(self) -> FakeBotApi:
        return self.stack.api

    async def link_for(self, user: int) -> str:
        """The token of the link ``/web`` answers ``user`` with in their private chat."""
        await self.stack.deliver(tg.message(user, "/web"))
        found = LINK.search(self.api.texts(str(user))[-1])
        assert found is not None, self.api.texts(str(user))[-1]
        return found[2]

    async def complaint(self, text: str = "The mug arrived broken") -> int:
        """The linked customer reports a damaged item in the chat; the new ticket's number."""
        await self.stack.deliver(tg.message(CUSTOMER, "/problem"))
        await self.stack.deliver(tg.callback(CUSTOMER, "cat:damaged"))
        await self.stack.deliver(tg.message(CUSTOMER, text))
        async with self.db.uow() as uow:
            ticket = await uow.session.scalar(select(Ticket).order_by(Ticket.id.desc()))
        assert ticket is not None
        return ticket.id

    async def ticket(self, number: int) -> Ticket:
        async with self.db.uow() as uow:
            found = await uow.session.get(Ticket, number)
        assert found is not None
        return found


def admin_settings(api_url: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "http_port": 0,
        "web_secret": SECRET,
        "web_base_url": "http://admin.example",
        "operator_ids": [str(OPERATOR)],
        "admin_ids": [str(ADMIN)],
        "default_timezone": "America/Sao_Paulo",
        "operators_timezone": "America/Sao_Paulo",
        "default_locale": "en",
    }
    values.update(overrides)
    return telegram_settings(api_url, "aiogram", **values)


@asynccontextmanager
async def admin_site(api: FakeBotApi, db: Database, **overrides: Any) -> AsyncIterator[Site]:
    settings = admin_settings(api.url, **overrides)  # type: ignore[attr-defined]
    stack = await BotStack(api, settings, db, lambda: datetime.now(UTC)).start()
    wiring = AdminWiring(stack.messenger, stack.sender.wake)
    http = await start_http_server(settings, db, stack.app.channels, admin=wiring)
    assert http is not None
    await customer_with_delivered_order(db, chat_id=str(CUSTOMER), now=datetime.now(UTC))
    try:
        yield Site(stack, http, db)
    finally:
        await http.cleanup()
        await stack.stop()


def client() -> aiohttp.ClientSession:
    # unsafe: keep cookies of an IP address (127.0.0.1), as a browser does
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def form_value(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, f"no {name} in the page"
    return found[1]


async def sign_in(http: aiohttp.ClientSession, base: str, token: str) -> str:
    """Open the link, press "Sign in"; the dashboard's HTML."""
    async with http.get(f"{base}/admin/login", params={"token": token}) as got:
        assert got.status == 200, await got.text()
        page = await got.text()
    form = {"token": form_value(page, "token"), "nonce": form_value(page, "nonce")}
    async with http.post(f"{base}/admin/login", data=form) as signed:
        assert signed.status == 200 and signed.url.path == "/admin/", await signed.text()
        return await signed.text()


async def answers(db: Database, scores: list[tuple[str, int]], at: datetime) -> None:
    """Survey answers of the test's customer, given at ``at``."""
    async with db.uow() as uow:
        customer = await uow.session.scalar(select(Customer))
        assert customer is not None
        for i, (kind, score) in enumerate(scores):
            uow.session.add(
                SurveyResponse(
                    dedup_key=f"web-{kind}-{i}-{at.isoformat()}",
                    customer_id=customer.id,
                    kind=kind,
                    score=score,
                    source="import",
                    answered_at=at + timedelta(minutes=i),
                )
            )
        await uow.commit()


def kpi_json(db_url: str, since: str, until: str) -> str:
    """``postsale kpi --json``'s output for the days ``since`` to ``until``."""
    env = {**os.environ, "DATABASE_URL": db_url, "DEFAULT_TIMEZONE": "America/Sao_Paulo"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "kpi", "--json", "--since", since, "--until", until],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return done.stdout
