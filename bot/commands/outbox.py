"""``postsale outbox``: queued / sent / failed counts and the latest failures with reasons."""

from __future__ import annotations

import argparse

from bot.app import open_database
from bot.settings import Settings
from storage.models import OutboxMessage
from storage.outbox_state import latest_failures, outbox_counts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--failed", action="store_true", help="list failed messages only")
    parser.add_argument("--limit", type=int, default=None, help="how many failures to show")


def failure_line(message: OutboxMessage) -> str:
    when = f"{message.failed_at:%Y-%m-%d %H:%M:%S}Z" if message.failed_at else "?"
    text = str(message.body.get("text") or "").replace("\n", " ")
    if len(text) > 40:
        text = text[:39] + "…"
    return (
        f"#{message.id} {when} {message.channel}:{message.chat_id} {message.purpose} "
        f"attempts={message.attempts} reason: {message.error or '?'} | {text}"
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    db = await open_database(settings)
    try:
        async with db.uow() as uow:
            counts = await outbox_counts(uow.session)
            limit = args.limit or (50 if args.failed else 10)
            failures = await latest_failures(uow.session, limit)
    finally:
        await db.close()
    if not args.failed:
        print(f"queued {counts.queued}  sent {counts.sent}  failed {counts.failed}")
        if failures:
            print(f"latest failures ({len(failures)} of {counts.failed}):")
    for message in failures:
        print(("  " if not args.failed else "") + failure_line(message))
    return 0
