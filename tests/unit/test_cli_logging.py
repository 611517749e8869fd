"""The CLI keeps the libraries' per-update log lines out of an INFO log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.entrypoints.cli import CHATTY_LOGGERS, quiet_chatty_loggers


@pytest.fixture
def restore_levels() -> Iterator[None]:
    saved = {name: logging.getLogger(name).level for name in CHATTY_LOGGERS}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_at_info_aiogram_updates_and_httpx_requests_are_not_logged(restore_levels: None) -> None:
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    quiet_chatty_loggers(logging.INFO)
    assert not logging.getLogger("aiogram.event").isEnabledFor(logging.INFO)
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert logging.getLogger("aiogram.event").isEnabledFor(logging.WARNING)


def test_at_debug_every_library_line_stays(restore_levels: None) -> None:
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    quiet_chatty_loggers(logging.DEBUG)
    assert all(logging.getLogger(n).level == logging.NOTSET for n in CHATTY_LOGGERS)
