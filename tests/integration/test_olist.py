"""The first 5,000 orders of the real Olist data, converted and imported (SQLite and PostgreSQL).

Skipped, saying why, when the shared data folder is not there.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from benchmarks.olist import convert, import_and_measure
from bot.app import Database
from bot.settings import load_settings
from storage.imports import ImportReport
from storage.read.figures import ratio
from tests.conftest import OLIST_DIR

pytestmark = pytest.mark.skipif(
    not (OLIST_DIR / "olist_orders_dataset.csv").is_file(),
    reason=f"the Olist data set is not at {OLIST_DIR}",
)


def expected_delivery(out_dir: Path) -> dict[str, object]:
    """The delivery figures worked out from the converted files themselves: every time
    is Sao Paulo's, so a local date is the text's first ten characters."""
    on_time: dict[str, bool] = {}
    delivered = 0
    with (out_dir / "orders.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["delivered_at"]:
                delivered += 1
                if row["estimated_delivery_at"]:
                    on_time[row["order_id"]] = (
                        row["delivered_at"][:10] <= row["estimated_delivery_at"][:10]
                    )
    scores: dict[bool, list[int]] = {True: [], False: []}
    with (out_dir / "responses.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["order_id"] in on_time:
                scores[on_time[row["order_id"]]].append(int(row["score"]))
    punctual = sum(on_time.values())
    return {
        "delivered": delivered,
        "on_time": punctual,
        "late": len(on_time) - punctual,
        "on_time_pct": ratio(punctual, len(on_time), 100),
        "csat_on_time": ratio(sum(scores[True]), len(scores[True])),
        "csat_late": ratio(sum(scores[False]), len(scores[False])),
        "nps_on_time": None,  # Olist's reviews are 1-5 scores: CSAT only
        "nps_late": None,
    }


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

    assert figures["delivery"] == expected_delivery(tmp_path)

    again = await import_and_measure(converted, db_url, settings)
    repeated = again["orders_import"]
    assert isinstance(repeated, ImportReport)
    assert (repeated.added, repeated.updated, repeated.unchanged) == (0, 0, converted.order_rows)
    assert again["figures"] == figures
