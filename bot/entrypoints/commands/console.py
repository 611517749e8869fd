"""``postsale console``: chat with the bot in the terminal, no token needed."""

from __future__ import annotations

import argparse

from bot.entrypoints.console import run_console
from bot.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


async def run(args: argparse.Namespace, settings: Settings) -> int:
    return await run_console(settings)
