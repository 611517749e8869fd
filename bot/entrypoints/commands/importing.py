"""What the ``import-*`` commands share: the file argument, running, and the summary."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.app import Database, open_database
from bot.settings import Settings
from storage.imports import CsvHeaderError, ImportReport, Rejection

SHOWN = 50
"""Rejected lines printed by default (all are counted)."""

Importer = Callable[[Database, Path], Awaitable[ImportReport]]


def add_arguments(parser: argparse.ArgumentParser, columns: str) -> None:
    parser.add_argument("file", type=Path, help=f"CSV file with a header line: {columns}")
    parser.add_argument(
        "--show", type=int, default=SHOWN, metavar="N", help=f"list at most N bad rows ({SHOWN})"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


async def run_import(args: argparse.Namespace, settings: Settings, importer: Importer) -> int:
    """0 when the file was read (rejected rows or not); 2 when it could not be read."""
    path: Path = args.file
    db = await open_database(settings)
    try:
        report = await importer(db, path)
    except CsvHeaderError as exc:
        print(f"postsale: {path}: {exc}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as exc:
        print(
            f"postsale: {path}: not UTF-8 text ({exc.reason} at byte {exc.start}); rows before "
            "it were imported; fix the file and import it again (nothing is imported twice)",
            file=sys.stderr,
        )
        return 2
    except OSError as exc:
        print(f"postsale: {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    finally:
        await db.close()
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print(summary(path.name, report, args.show))
    return 0


def _listed(title: str, items: list[Rejection], total: int, show: int) -> list[str]:
    if not total:
        return []
    lines = [title]
    lines += [f"  line {item.line}: {item.reason}" for item in items[: max(show, 0)]]
    more = total - min(len(items), max(show, 0))
    if more:
        lines.append(f"  ... and {more:,} more")
    return lines


def summary(name: str, report: ImportReport, show: int = SHOWN) -> str:
    """The readable report: counts, then the rejected rows and the warnings."""
    lines = [f"{name}: {report.read:,} rows read"]
    for label, count in (
        ("added", report.added),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
        ("stale", report.stale),
        ("rejected", report.rejected),
    ):
        lines.append(f"  {label:<10}{count:>12,}")
    lines += _listed("rejected rows (not imported):", report.rejections, report.rejected, show)
    warned = "warnings (row imported, field left empty):"
    lines += _listed(warned, report.warnings, report.warned, show)
    return "\n".join(lines)
