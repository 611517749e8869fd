"""The ``postsale`` command line (also ``python -m bot``).

Each sub-command lives in ``bot/entrypoints/commands/<name>.py`` with ``add_arguments(parser)``
and ``run(args, settings) -> int`` (a coroutine function or a plain one).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import sys
from collections.abc import Sequence

from bot.log_format import CHATTY_LOGGERS, configure_logging, quiet_chatty_loggers
from bot.settings import SettingsError, load_settings
from bot.startup import StartupError

log = logging.getLogger("postsale")

# (command, module under bot.entrypoints.commands, help)
COMMANDS: list[tuple[str, str, str]] = [
    ("run", "run", "run the bot: channel, follow-up scheduler and outbox sender"),
    ("console", "console", "chat with the bot in the terminal (no token needed)"),
    ("import-orders", "import_orders", "import customers and orders from a CSV file"),
    ("import-responses", "import_responses", "import past NPS/CSAT answers from a CSV file"),
    ("import-spend", "import_spend", "import marketing spend (for CAC) from a CSV file"),
    ("link", "link", "print a customer's Telegram deep link"),
    ("kpi", "kpi", "print the KPI summary for a period"),
    ("web-link", "web_link", "print a one-time sign-in link to the web admin"),
    ("conversations", "conversations", "list, show or export stored conversations"),
    ("operators", "operators", "add, remove or list operators and admins"),
    ("outbox", "outbox", "show the outbox: queued, sent and failed messages"),
    ("dead-updates", "dead_updates", "list the updates given up on, with their errors"),
    ("themes", "themes", "train a themes model, tag a CSV file's texts, retag the stored ones"),
    ("migrate", "migrate", "bring the database schema up to date"),
    ("backup", "backup", "write the database to a backup file, safe while the bot runs"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="postsale", description="Post-sale support bot: surveys, tickets and KPIs."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name, help_text in COMMANDS:
        try:
            module = importlib.import_module(f"bot.entrypoints.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bot.entrypoints.commands.{module_name}":
                raise
            continue
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(cmd)
        cmd.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    redactor = configure_logging(settings)
    try:
        result = args._module.run(args, settings)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
    except StartupError as exc:
        print(f"postsale: {redactor.redact(str(exc))}", file=sys.stderr)
        return 1
    except Exception:
        # Through the log, not Python's own printing, so that the secrets are hidden.
        log.critical("postsale stopped on an unexpected error", exc_info=True)
        return 1
    return int(result or 0)


__all__ = ["CHATTY_LOGGERS", "build_parser", "main", "quiet_chatty_loggers"]


if __name__ == "__main__":
    sys.exit(main())
