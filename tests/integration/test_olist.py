"""The first 5,000 orders of the real Olist data, converted and imported (SQLite and PostgreSQL).

Skipped, saying why, when the shared data folder is not there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.olist import convert, import_and_measure
from bot.app import Database
from bot.settings import load_settings
from storage.imports import ImportReport
from tests.conftest import OLIST_DIR

pytestmark = pytest.mark.skipif(
    not (OLIST_DIR / "olist_orders_dataset.csv").is_file(),
    reason=f"the Olist data set is not at {OLIST_DIR}",
)


async def test_a_slice_of_olist_imports_cleanly_and_gives_plausible_figures(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    converted = convert(OLIST_DIR, tmp_path, limit=5_000)
    assert converted.order_rows + converted.skipped_orders == 5_000
    settings = load_settings(database_url=db_url, default_timezone="America/Sao_Paulo")
    measured = await import_and_measure(converted, db_url, settings)
    orders, answers = measured["orders_import"], measured["responses_import"]
    assert isinstance(orders, ImportReport) and isinstance(answers, ImportReport)
    assert (orders.added, orders.rejected) == (converted.order_rows, 0)
    assert (answers.added, answers.rejected) == (converted.response_rows, 0)
    assert measured["orders"] == converted.order_rows
    customers = measured["customers"]
    assert isinstance(customers, int)
    assert 0.9 * converted.order_rows < customers <= converted.order_rows  # a few repeat buyers
    figures = measured["figures"]
    assert isinstance(figures, dict)
    assert 3.5 < figures["csat"]["mean"] < 4.6
    assert figures["csat"]["responses"] == converted.response_rows
    assert 0 <= figures["customers"]["repeat_purchase_pct"] < 5

    again = await import_and_measure(converted, db_url, settings)
    repeated = again["orders_import"]
    assert isinstance(repeated, ImportReport)
    assert (repeated.added, repeated.updated, repeated.unchanged) == (0, 0, converted.order_rows)
    assert again["figures"] == figures
