"""``postsale run``: the bot on every channel configured (Telegram, WhatsApp, both); the
terminal chat when none is."""

from __future__ import annotations

import argparse
import sys

from bot.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--console",
        action="store_true",
        help="open the terminal chat even when BOT_TOKEN or WHATSAPP_TOKEN is set",
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.console or not (settings.bot_token or settings.whatsapp):
        from bot.entrypoints.console import run_console

        if not args.console:
            print(
                "Neither BOT_TOKEN nor WHATSAPP_TOKEN is set: opening the terminal chat"
                " (see README to run on Telegram or WhatsApp).",
                file=sys.stderr,
            )
        return await run_console(settings)
    from bot.entrypoints.runner import run_bot

    return await run_bot(settings)
