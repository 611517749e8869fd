"""``postsale import-responses FILE.csv``: past NPS/CSAT answers (idempotent)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.api import import_responses_file
from bot.app import Database
from bot.bootstrap import theme_tag_many
from bot.entrypoints.commands import importing
from bot.settings import Settings
from storage.imports import RESPONSE_COLUMNS, ImportReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    importing.add_arguments(parser, ", ".join(RESPONSE_COLUMNS))


async def run(args: argparse.Namespace, settings: Settings) -> int:
    async def importer(db: Database, path: Path) -> ImportReport:
        return await import_responses_file(db, path, settings, tag_many=theme_tag_many(settings))

    return await importing.run_import(args, settings, importer)
