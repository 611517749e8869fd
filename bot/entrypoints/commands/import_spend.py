"""``postsale import-spend FILE.csv``: marketing spend per month and channel, for CAC."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.api import import_spend_file
from bot.app import Database
from bot.entrypoints.commands import importing
from bot.settings import Settings
from storage.imports import SPEND_COLUMNS, ImportReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    importing.add_arguments(parser, ", ".join(SPEND_COLUMNS) + " (month as YYYY-MM)")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    async def importer(db: Database, path: Path) -> ImportReport:
        return await import_spend_file(db, path, settings)

    return await importing.run_import(args, settings, importer)
