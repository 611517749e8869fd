"""The platforms' JSON fixtures (tests/fixtures/stores/), each read fresh, and the
stored customer of an order: what the connector tests compare against."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import Database
from storage.models import Customer, Order

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stores"


@cache
def _read(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def fixture(name: str, **changes: Any) -> dict[str, Any]:
    """A copy of ``tests/fixtures/stores/<name>`` with ``changes`` applied at the top level."""
    payload = copy.deepcopy(_read(name))
    payload.update(changes)
    return payload


def body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


async def order_and_customer(db: Database, order_id: str) -> tuple[Order, Customer] | None:
    """The stored order ``order_id`` (the platform-prefixed id) and its customer."""
    async with db.uow() as uow:
        found = (
            await uow.session.execute(
                select(Order, Customer)
                .join(Customer, Customer.id == Order.customer_id)
                .where(Order.external_id == order_id)
            )
        ).first()
    return None if found is None else (found[0], found[1])
