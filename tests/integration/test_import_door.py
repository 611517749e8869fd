"""What the import door lets in: phones in the store's country, sane dates, clean text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.api import import_orders_file, record_orders
from bot.app import Database
from bot.settings import load_settings
from storage.imports import ORDER_COLUMNS
from storage.models import Customer, Order
from tests.integration.test_imports import NOW, order, stored_customers, stored_orders, write_csv

SETTINGS = load_settings(
    default_timezone="America/Sao_Paulo", default_locale="pt-BR", _env_file=None
)


async def test_a_national_phone_is_read_in_the_stores_country_whatever_the_rows_locale(
    db: Database,
) -> None:
    rows = [order("o1", phone="(21) 99974-2028", locale="es")]
    report = await record_orders(db, rows, SETTINGS, now=NOW)
    assert (report.added, report.warnings) == (1, [])
    assert (await stored_customers(db))["c1"].phone == "+5521999742028"


async def test_every_unreadable_phone_is_a_warning_with_its_line_and_the_row_is_kept(
    db: Database, tmp_path: Path
) -> None:
    rows = [order("o1", phone="12"), order("o2", customer_id="c2", phone="call me")]
    path = write_csv(tmp_path / "orders.csv", rows, ORDER_COLUMNS)
    report = await import_orders_file(db, path, SETTINGS, now=NOW)
    assert report.added == 2
    assert [(w.line, w.reason) for w in report.warnings] == [
        (2, "phone '12' is not a valid number; imported without it"),
        (3, "phone 'call me' is not a valid number; imported without it"),
    ]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"purchased_at": "2024-05-10 10:00", "delivered_at": "2024-05-09 10:00"},
            "delivered_at '2024-05-09 10:00' is before purchased_at",
        ),
        ({"purchased_at": "2024-07-01 10:00"}, "purchased_at '2024-07-01 10:00' is in the future"),
        (
            {"delivered_at": "9999-12-31T23:00:00+00:00"},
            "delivered_at '9999-12-31T23:00:00+00:00' is in the future",
        ),
        (
            {"purchased_at": "0001-01-01T00:00:00+05:00"},
            "purchased_at '0001-01-01T00:00:00+05:00' is out of range",
        ),
        (
            {"purchased_at": "1999-12-31T12:00:00+00:00"},
            "purchased_at '1999-12-31T12:00:00+00:00' is before 2000",
        ),
    ],
    ids=["delivered-before-purchase", "future-purchase", "year-9999", "year-1", "year-1999"],
)
async def test_a_date_that_would_make_follow_ups_or_kpis_wrong_rejects_the_row_with_its_line(
    db: Database, tmp_path: Path, fields: dict[str, str], reason: str
) -> None:
    rows = [order("o1"), order("o2", **fields), order("o3")]
    path = write_csv(tmp_path / "orders.csv", rows, ORDER_COLUMNS)
    report = await import_orders_file(db, path, SETTINGS, now=NOW)
    assert (report.added, report.rejected) == (2, 1)
    assert [(r.line, r.reason) for r in report.rejections] == [(3, reason)]
    assert set(await stored_orders(db)) == {"o1", "o3"}


async def test_an_email_that_is_not_an_address_is_dropped_with_a_warning(db: Database) -> None:
    rows = [
        order("o1", email="ana at example"),
        order("o2", customer_id="c2", email="bea@x.com.br"),
    ]
    report = await record_orders(db, rows, SETTINGS, now=NOW)
    assert report.added == 2
    assert [(w.line, w.reason) for w in report.warnings] == [
        (1, "email 'ana at example' is not an e-mail address; imported without it")
    ]
    customers = await stored_customers(db)
    assert (customers["c1"].email, customers["c2"].email) == (None, "bea@x.com.br")


async def test_nul_characters_in_a_csv_row_are_removed_and_every_row_is_kept(
    db: Database, tmp_path: Path
) -> None:
    rows = [order("o1"), order("o\x002", customer_name="Bea\x00 Lima"), order("o3")]
    path = write_csv(tmp_path / "orders.csv", rows, ORDER_COLUMNS)
    report = await import_orders_file(db, path, SETTINGS, now=NOW)
    assert (report.added, report.rejected) == (3, 0)
    assert {(w.line, w.reason) for w in report.warnings} == {
        (3, "order_id held NUL or invalid characters; they were removed"),
        (3, "customer_name held NUL or invalid characters; they were removed"),
    }
    assert set(await stored_orders(db)) == {"o1", "o2", "o3"}
    assert (await stored_customers(db))["c1"].name == "Bea Lima"


async def test_lone_surrogates_in_ingested_text_become_replacement_marks(db: Database) -> None:
    items = [order("o1", customer_name="Bea \ud800Lima"), order("o2", customer_id="c\udfff")]
    report = await record_orders(db, items, SETTINGS, now=NOW)
    assert (report.added, report.rejected, report.warned) == (2, 0, 2)
    names = {c.external_id: c.name for c in (await stored_customers(db)).values()}
    assert names == {"c1": "Bea \ufffdLima", "c\ufffd": None}


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (["list"], "order_id must be text or a whole number, not a list"),
        ({"a": 1}, "order_id must be text or a whole number, not an object"),
        (True, "order_id must be text or a whole number, not true/false"),
        (1.5, "order_id must be text or a whole number, not the number 1.5"),
    ],
)
async def test_an_id_that_is_not_text_or_a_whole_number_is_rejected_with_the_reason(
    db: Database, value: Any, words: str
) -> None:
    items: list[dict[str, Any]] = [
        {**order("o1"), "order_id": value},
        {**order("x"), "order_id": 42},
    ]
    report = await record_orders(db, items, SETTINGS, now=NOW)
    assert (report.added, report.rejected) == (1, 1)
    assert [(r.line, r.reason) for r in report.rejections] == [(1, words)]
    async with db.uow() as uow:
        assert list(await uow.session.scalars(select(Order.external_id))) == ["42"]
        assert len(list(await uow.session.scalars(select(Customer.id)))) == 1
