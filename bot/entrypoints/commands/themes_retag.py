"""``postsale themes retag``: tag every stored reason, comment and complaint again.

After a model change. The texts are read and written in batches (one transaction each);
a theme an operator set is kept. Prints how many texts got each theme.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any

from bot.app import open_database
from bot.bootstrap import theme_tag_many
from bot.settings import Settings
from flows.themes import THEMES
from storage.themes import RETAG_BATCH, retag


def add_retag(sub: Any) -> None:
    """``retag`` among ``postsale themes``' actions (``sub``: their sub-parsers)."""
    again = sub.add_parser("retag", help="tag the stored texts again (operators' themes kept)")
    again.add_argument(
        "--batch", type=int, default=RETAG_BATCH, metavar="N", help=f"texts a batch ({RETAG_BATCH})"
    )


def report(counts: Counter[str | None], kept: int) -> str:
    """One line per theme (the order of ``flows.themes``), then the untagged and the kept."""
    lines = [f"  {name:<18}{counts.get(name, 0):>10,}" for name in THEMES]
    lines.append(f"  {'(no theme)':<18}{counts.get(None, 0):>10,}")
    total = sum(counts.values())
    head = f"retagged {total:,} texts:"
    return "\n".join([head, *lines, f"kept {kept:,} themes set by operators"])


async def run_retag(args: argparse.Namespace, settings: Settings) -> int:
    tag_many = theme_tag_many(settings)
    if tag_many is None:
        print("postsale themes: no theme model is configured", file=sys.stderr)
        return 2
    db = await open_database(settings)
    try:
        counts, kept = await retag(db.sessions, tag_many, max(1, args.batch))
    finally:
        await db.close()
    print(report(counts, kept))
    return 0
