"""The customer's ``/mydata`` files under ``DATA_DIR/exports``: written, sent, then gone.

An export holds everything we keep about a person, so it lives only as long as it
takes to send it: the outbox sender deletes it once the send is recorded
(``discard_sent``), ``/forget`` deletes the customer's files with their data, and
``sweep`` removes whatever is older than ``EXPORT_TTL`` (a send that never happened,
a crash between the send and the delete).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storage.outbox_body import DISCARD_AFTER_SEND, OutboxBody

log = logging.getLogger("postsale.exports")

EXPORTS = "exports"


def exports_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / EXPORTS


def _prefix(customer_id: int) -> str:
    return f"mydata-{customer_id}-"


def export_path(data_dir: str | Path, customer_id: int, now: datetime) -> Path:
    """A new file name for the customer's export; unguessable, as it holds personal data."""
    name = f"{_prefix(customer_id)}{now:%Y%m%dT%H%M%S}-{secrets.token_hex(8)}.json"
    return exports_dir(data_dir) / name


def write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by the bot's user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def erase_customer_files(data_dir: str | Path, customer_id: int) -> int:
    """Delete every export made for the customer; returns how many were deleted."""
    folder = exports_dir(data_dir)
    if not folder.is_dir():
        return 0
    erased = 0
    for path in folder.glob(f"{_prefix(customer_id)}*"):
        with contextlib.suppress(FileNotFoundError):  # sent and deleted meanwhile
            path.unlink()
            erased += 1
    return erased


def sweep(data_dir: str | Path, ttl: timedelta, now: datetime) -> int:
    """Delete export files last written more than ``ttl`` before ``now``."""
    folder = exports_dir(data_dir)
    if not folder.is_dir():
        return 0
    cutoff = (now - ttl).timestamp()
    swept = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                swept += 1
        except FileNotFoundError:
            continue
    if swept:
        log.info("deleted %d export file(s) older than %s", swept, ttl)
    return swept


async def sweep_now(data_dir: str | Path, ttl: timedelta) -> int:
    """``sweep`` at the current time, off the event loop (a directory listing)."""
    return await asyncio.to_thread(sweep, data_dir, ttl, datetime.now(UTC))


async def discard_sent(body: OutboxBody | Mapping[str, Any]) -> None:
    """Delete the document of a message that is done with, if it was marked to go."""
    typed = body if isinstance(body, OutboxBody) else OutboxBody.from_json(body)
    if not typed.discard_after_send or not typed.document_path:
        return
    with contextlib.suppress(FileNotFoundError):
        await asyncio.to_thread(Path(typed.document_path).unlink)


__all__ = [
    "DISCARD_AFTER_SEND",
    "discard_sent",
    "erase_customer_files",
    "export_path",
    "exports_dir",
    "sweep",
    "sweep_now",
    "write_private",
]
