"""``postsale import-orders FILE.csv``: upsert customers and orders (idempotent on order_id)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from bot.api import import_orders_file
from bot.app import Database
from bot.entrypoints.commands import importing
from bot.settings import Settings
from storage.imports import ORDER_COLUMNS, ImportReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    importing.add_arguments(parser, ", ".join(ORDER_COLUMNS) + " (and, optionally, updated_at)")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    async def importer(db: Database, path: Path) -> ImportReport:
        return await import_orders_file(db, path, settings, now=datetime.now(UTC))

    return await importing.run_import(args, settings, importer)
