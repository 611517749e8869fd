"""``postsale link CUSTOMER_ID``: a customer's Telegram deep link; ``--pending`` lists them all.

The bot's username comes from ``BOT_USERNAME``, or is asked of the Bot API once
(``getMe``) and kept in the ``kv`` table.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import UTC, datetime

import aiohttp
from sqlalchemy import select

from bot.app import Database, open_database
from bot.settings import Settings
from storage.followups import plan_batch, unlinked_customers
from storage.links import create_token, unmatched_chats
from storage.models import Customer, KeyValue

USERNAME_KEY = "bot_username"


class LinkError(Exception):
    """Something the person running the command must fix (message says what)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("customer_id", nargs="?", help="the store's customer id")
    parser.add_argument(
        "--pending",
        action="store_true",
        help="list delivered-but-unlinked customers with their links (CSV), for the store",
    )
    parser.add_argument(
        "--unmatched",
        action="store_true",
        help="list the numbers that wrote on WhatsApp and matched no customer (CSV)",
    )
    parser.add_argument("--limit", type=int, default=None, help="at most this many (--pending)")


async def fetch_username(settings: Settings) -> str:
    """Ask the Bot API who we are (``getMe``)."""
    if not settings.bot_token:
        raise LinkError("set BOT_USERNAME (or BOT_TOKEN, to ask Telegram for it)")
    url = f"{settings.telegram_api_url}/bot{settings.bot_token}/getMe"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http,
            http.get(url) as response,
        ):
            data = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise LinkError(f"could not ask the Bot API for the bot's username: {exc}") from exc
    username = (data.get("result") or {}).get("username") if data.get("ok") else None
    if not username:
        raise LinkError(f"getMe did not give a username: {data.get('description') or data}")
    return str(username)


async def bot_username(db: Database, settings: Settings) -> str:
    """``BOT_USERNAME``, else the one kept from an earlier ``getMe``, else ``getMe`` now."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    async with db.uow() as uow:
        kept = await uow.session.get(KeyValue, USERNAME_KEY)
        if kept is not None:
            return kept.value
    username = await fetch_username(settings)
    async with db.uow() as uow:
        if await uow.session.get(KeyValue, USERNAME_KEY) is None:
            uow.session.add(KeyValue(key=USERNAME_KEY, value=username))
        await uow.commit()
    return username


def deep_link(username: str, token: str) -> str:
    return f"https://t.me/{username}?start={token}"


async def link_for(db: Database, settings: Settings, external_id: str) -> str:
    """The deep link of the customer whose store id is ``external_id``."""
    now = datetime.now(UTC)
    async with db.uow() as uow:
        customer_id = await uow.session.scalar(
            select(Customer.id).where(Customer.external_id == external_id)
        )
        if customer_id is None:
            raise LinkError(f"no customer with id {external_id!r}")
        token = await create_token(uow.session, customer_id, now)
        await uow.commit()
    return deep_link(await bot_username(db, settings), token)


async def plan_outstanding(db: Database, settings: Settings, now: datetime) -> int:
    """Plan the follow-ups of delivered orders that have none yet, as the running bot would.

    Right after an import no bot may have run: without this the list would be empty.
    Safe beside a running bot: an order planned twice keeps its first follow-up.
    """
    planned, batch = 0, 500
    while True:
        async with db.uow() as uow:
            counts = await plan_batch(
                uow.session,
                now,
                delay=settings.followup_delay,
                window=settings.window,
                default_tz=settings.tz,
                stale_after=settings.survey_expires_after,
                limit=batch,
            )
            await uow.commit()
        planned += counts.planned
        if counts.seen < batch:
            return planned


async def pending_username(db: Database, settings: Settings) -> str | None:
    """The bot's username for the links; None when only WhatsApp runs (no deep links there:
    the customer's number links the chat)."""
    if not settings.bot_token and not settings.bot_username and settings.whatsapp:
        return None
    return await bot_username(db, settings)


async def write_pending(db: Database, settings: Settings, limit: int | None) -> int:
    """CSV of customers with a follow-up waiting for a linked chat, and their links."""
    username = await pending_username(db, settings)
    now = datetime.now(UTC)
    await plan_outstanding(db, settings, now)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["customer_id", "name", "phone", "email", "first_due_at", "pending", "link"])
    async with db.uow() as uow:
        customers = await unlinked_customers(uow.session, limit=limit)
        for c in customers:
            link = ""
            if username is not None:
                link = deep_link(username, await create_token(uow.session, c.customer_id, now))
            out.writerow(
                [
                    c.external_id,
                    c.name or "",
                    c.phone or "",
                    c.email or "",
                    c.first_due_at.isoformat(),
                    c.pending,
                    link,
                ]
            )
        await uow.commit()
    return len(customers)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.pending and not args.unmatched and not args.customer_id:
        print("postsale link: give a CUSTOMER_ID, or --pending, or --unmatched", file=sys.stderr)
        return 2
    db = await open_database(settings)
    try:
        if args.unmatched:
            await write_unmatched(db, args.limit)
        elif args.pending:
            await write_pending(db, settings, args.limit)
        else:
            print(await link_for(db, settings, args.customer_id))
    except LinkError as exc:
        print(f"postsale link: {exc}", file=sys.stderr)
        return 1
    finally:
        await db.close()
    return 0


async def write_unmatched(db: Database, limit: int | None) -> int:
    """CSV of the chats that wrote from a number no customer has (WhatsApp), newest first."""
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["channel", "number", "first_at", "last_at", "messages"])
    async with db.reader() as uow:
        chats = await unmatched_chats(uow.session, limit=limit)
    for chat in chats:
        out.writerow(
            [
                chat.channel,
                chat.number,
                chat.first_at.isoformat(),
                chat.last_at.isoformat(),
                chat.messages,
            ]
        )
    return len(chats)
