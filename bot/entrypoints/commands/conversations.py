"""``postsale conversations list / show / export``: transcripts, for admins.

Dates are ``YYYY-MM-DD`` (a whole day in DEFAULT_TIMEZONE; ``--until`` includes it) or
ISO 8601 times. ``export`` streams JSONL or CSV to a file or standard output.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from bot.app import open_database
from bot.settings import Settings
from storage.read.transcripts import (
    FIELDS,
    TranscriptFilter,
    conversation_messages,
    list_conversations,
    spreadsheet_safe,
    stream_messages,
)


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customer", help="the store's customer id")
    parser.add_argument("--since", help="from this date or time (YYYY-MM-DD or ISO 8601)")
    parser.add_argument("--until", help="up to this date (inclusive) or time (exclusive)")
    parser.add_argument("--flow", help="messages in this flow: survey, complaint, idle, ...")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="conversations with matching messages, newest first")
    _filters(listing)
    listing.add_argument("--limit", type=int, default=50)
    show = sub.add_parser("show", help="one conversation's transcript")
    show.add_argument("conversation_id", type=int)
    export = sub.add_parser("export", help="matching messages as JSONL or CSV")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--out", help="file to write (default: standard output)")
    _filters(export)


def parse_when(text: str | None, tz: ZoneInfo, *, end: bool) -> datetime | None:
    """A bound from the command line; a bare date is a whole day in ``tz``."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise SystemExit(f"not a date or time: {text!r} (use YYYY-MM-DD)") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=tz)


def filters_of(args: argparse.Namespace, settings: Settings) -> TranscriptFilter:
    return TranscriptFilter(
        customer=args.customer,
        since=parse_when(args.since, settings.tz, end=False),
        until=parse_when(args.until, settings.tz, end=True),
        flow=args.flow,
    )


def _when(at: datetime, tz: ZoneInfo) -> str:
    return f"{at.astimezone(tz):%Y-%m-%d %H:%M:%S}"


async def run(args: argparse.Namespace, settings: Settings) -> int:
    db = await open_database(settings)
    try:
        async with db.uow() as uow:
            if args.action == "list":
                return await _list(uow.session, args, settings)
            if args.action == "show":
                return await _show(uow.session, args.conversation_id, settings)
            return await _export(uow.session, args, settings)
    finally:
        await db.close()


async def _list(session: Any, args: argparse.Namespace, settings: Settings) -> int:
    rows = await list_conversations(session, filters_of(args, settings), args.limit)
    if not rows:
        print("no conversations match")
        return 0
    print("id\tchannel:chat\tcustomer\tflow/state\tmessages\tfirst\tlast")
    for r in rows:
        print(
            f"{r.id}\t{r.channel}:{r.chat_id}\t{r.customer or '-'}\t{r.flow}/{r.state}\t"
            f"{r.messages}\t{_when(r.first_at, settings.tz)}\t{_when(r.last_at, settings.tz)}"
        )
    return 0


async def _show(session: Any, conversation_id: int, settings: Settings) -> int:
    conv, customer, messages = await conversation_messages(session, conversation_id)
    if conv is None:
        print(f"no conversation {conversation_id}", file=sys.stderr)
        return 1
    print(
        f"conversation {conv.id} · {conv.channel}:{conv.chat_id} · customer {customer or '-'} · "
        f"now in {conv.flow}/{conv.state}"
    )
    for m in messages:
        arrow = "->" if m.direction == "in" else "<-"
        text = m.text if m.text is not None else "[erased]"
        print(f"{_when(m.at, settings.tz)} {arrow} [{m.flow or '-'}] {text}")
    return 0


async def _export(session: Any, args: argparse.Namespace, settings: Settings) -> int:
    count = 0
    with contextlib.ExitStack() as stack:
        out: IO[str] = sys.stdout
        if args.out:
            # A one-shot command: nothing else runs on this event loop while it writes.
            out = stack.enter_context(Path(args.out).open("w", encoding="utf-8", newline=""))  # noqa: ASYNC230
        writer = csv.DictWriter(out, fieldnames=FIELDS) if args.format == "csv" else None
        if writer is not None:
            writer.writeheader()
        async for row in stream_messages(session, filters_of(args, settings)):
            if writer is not None:
                writer.writerow(spreadsheet_safe(row))
            else:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    if args.out:
        print(f"exported {count} messages to {args.out}", file=sys.stderr)
    return 0
