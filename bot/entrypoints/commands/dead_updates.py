"""``postsale dead-updates``: updates given up on, newest first, with the error and the JSON."""

from __future__ import annotations

import argparse
import json

from bot.app import open_database
from bot.settings import Settings
from storage import dead_updates
from storage.models import DeadUpdate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=20, help="how many to show (newest first)")
    parser.add_argument("--json", action="store_true", help="one JSON object a line, whole")


def dead_line(dead: DeadUpdate) -> str:
    raw = json.dumps(dead.raw, ensure_ascii=False)
    if len(raw) > 200:
        raw = raw[:199] + "…"
    error = dead.error.splitlines()[-1] if dead.error else "?"
    when = f"{dead.failed_at:%Y-%m-%d %H:%M:%S}Z"
    return f"#{dead.id} {when} {dead.channel}:{dead.update_id} {error} | {raw}"


def dead_json(dead: DeadUpdate) -> str:
    found = {
        "id": dead.id,
        "channel": dead.channel,
        "update_id": dead.update_id,
        "failed_at": dead.failed_at.isoformat(),
        "error": dead.error,
        "raw": dead.raw,
    }
    return json.dumps(found, ensure_ascii=False)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.limit < 1:
        print("postsale: --limit must be 1 or more")
        return 2
    db = await open_database(settings)
    try:
        async with db.reader() as uow:
            total = await dead_updates.count(uow.session)
            found = await dead_updates.latest(uow.session, args.limit)
    finally:
        await db.close()
    if args.json:
        for dead in found:
            print(dead_json(dead))
        return 0
    print(f"dead updates: {total}" + (f" (newest {len(found)})" if len(found) < total else ""))
    for dead in found:
        print("  " + dead_line(dead))
    return 0
