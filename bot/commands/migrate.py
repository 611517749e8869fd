"""``postsale migrate``: bring the schema up to date (``run`` does it too)."""

from __future__ import annotations

import argparse

from bot.app import Database
from bot.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


async def run(args: argparse.Namespace, settings: Settings) -> int:
    db = await Database.open(settings.database_url)
    await db.close()
    print("database schema is up to date")
    return 0
