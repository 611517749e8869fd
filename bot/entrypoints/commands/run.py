"""``postsale run``: the bot; the terminal chat when no BOT_TOKEN is set."""

from __future__ import annotations

import argparse
import sys

from bot.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--console",
        action="store_true",
        help="open the terminal chat even when BOT_TOKEN is set",
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.console or not settings.bot_token:
        from bot.entrypoints.console import run_console

        if not args.console:
            print(
                "BOT_TOKEN is not set: opening the terminal chat (see README to run on Telegram).",
                file=sys.stderr,
            )
        return await run_console(settings)
    from bot.entrypoints.runner import run_bot

    return await run_bot(settings)
