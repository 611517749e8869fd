"""Which real database errors count as an outage (hold the update) and which as the update's own."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import Database
from storage.failures import is_infrastructure
from storage.models import HandledUpdate


def test_a_database_that_cannot_be_opened_is_an_outage(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError) as caught:
        sqlite3.connect(tmp_path / "gone" / "bot.db")  # its directory is not there
    assert is_infrastructure(caught.value)


async def test_bad_data_and_bad_statements_are_the_updates_own_failures(db: Database) -> None:
    now = datetime.now(UTC)
    with pytest.raises(Exception) as duplicate:
        async with db.uow() as uow:
            uow.session.add(HandledUpdate(channel="telegram", update_id="1", handled_at=now))
            uow.session.add(HandledUpdate(channel="telegram", update_id="1", handled_at=now))
            await uow.commit()
    with pytest.raises(Exception) as no_table:
        async with db.uow() as uow:
            await uow.session.execute(text("SELECT * FROM no_such_table"))
    assert not is_infrastructure(duplicate.value)
    assert not is_infrastructure(no_table.value)
