"""``postsale backup DEST``: the database in one file, safe while ``postsale run`` works.

SQLite: an online snapshot checked with ``PRAGMA integrity_check``; PostgreSQL:
``pg_dump -Fc`` (restore with ``pg_restore``). Either way DEST appears only when whole.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bot.settings import Settings, shown_url
from storage.backup import BackupError, backup

log = logging.getLogger("postsale.backup")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dest", type=Path, metavar="DEST", help="the backup file to write")
    parser.add_argument("--force", action="store_true", help="replace DEST if it exists")


def run(args: argparse.Namespace, settings: Settings) -> int:
    shown = shown_url(settings.database_url)
    log.info("backup of %s to %s", shown, args.dest)
    try:
        done = backup(settings.database_url, args.dest, force=args.force)
    except BackupError as exc:
        print(f"postsale: backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backup of {shown} written to {done.path} ({done.size:,} bytes; {done.check})")
    return 0
