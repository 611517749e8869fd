"""``postsale outbox``: queued / sent / failed counts and the latest failures with reasons;
``--retry ID...`` / ``--retry --all`` queues failed messages again."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from bot.app import open_database
from bot.settings import Settings
from storage.models import OutboxMessage
from storage.outbox_body import OutboxBody
from storage.outbox_retry import requeue_failed
from storage.outbox_state import latest_failures, outbox_counts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--failed", action="store_true", help="list failed messages only")
    parser.add_argument("--limit", type=int, default=None, help="how many failures to show")
    parser.add_argument(
        "--retry",
        nargs="*",
        type=int,
        metavar="ID",
        help="queue these failed (or unknown) messages again; with --all, every failed one",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="with --retry: every failed message but those to people who blocked the bot",
    )


def failure_line(message: OutboxMessage) -> str:
    when = f"{message.failed_at:%Y-%m-%d %H:%M:%S}Z" if message.failed_at else "?"
    text = _text_of(message.body).replace("\n", " ")
    if len(text) > 40:
        text = text[:39] + "…"
    return (
        f"#{message.id} {when} {message.channel}:{message.chat_id} {message.purpose} "
        f"attempts={message.attempts} reason: {message.error or '?'} | {text}"
    )


def _text_of(body: dict[str, object]) -> str:
    try:
        return OutboxBody.from_json(body).text
    except ValueError:
        return "?"  # a malformed body is listed all the same, with its failure


async def retry(args: argparse.Namespace, settings: Settings) -> int:
    ids: list[int] | None = args.retry
    if bool(ids) == bool(args.all):
        print("outbox --retry: name the message ids, or give --all (not both)", file=sys.stderr)
        return 2
    db = await open_database(settings)
    try:
        async with db.uow() as uow:
            deadline = datetime.now(UTC) + settings.outbox_retry_for
            done = await requeue_failed(uow.session, None if args.all else ids, deadline)
            await uow.commit()
    finally:
        await db.close()
    listed = ", ".join(f"#{i}" for i in done.ids) or "none"
    print(f"queued again: {len(done.ids)} ({listed}); each goes in its chat's order")
    for missing in done.missing:
        print(f"no failed or unknown message #{missing}: left as it is", file=sys.stderr)
    return 1 if done.missing else 0


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.retry is not None or args.all:
        return await retry(args, settings)
    db = await open_database(settings)
    try:
        async with db.uow() as uow:
            counts = await outbox_counts(uow.session)
            limit = args.limit or (50 if args.failed else 10)
            failures = await latest_failures(uow.session, limit)
    finally:
        await db.close()
    if not args.failed:
        print(
            f"queued {counts.queued}  sent {counts.sent}  failed {counts.failed}"
            f"  unknown {counts.unknown}"
        )
        if failures:
            print(f"latest failures ({len(failures)} of {counts.failed}):")
    for message in failures:
        print(("  " if not args.failed else "") + failure_line(message))
    return 0
