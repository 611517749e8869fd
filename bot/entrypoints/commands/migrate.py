"""``postsale migrate``: bring the schema up to date (``run`` does it too)."""

from __future__ import annotations

import argparse

from bot.app import open_database
from bot.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


async def run(args: argparse.Namespace, settings: Settings) -> int:
    db = await open_database(settings)
    await db.close()
    print("database schema is up to date")
    return 0
