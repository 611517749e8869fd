"""Completing partial order rows: a shipment event names its order, the order is known.

The common case: the order's creation event came first, so the stored order gives the
customer, purchase time, total and currency. Else, when the connector can ask its
platform (``FetchesOrders``, its API credentials set), the order is fetched; a fetch
that fails raises ``FetchFailed`` (503: the platform delivers again). An order known
neither way is not recorded and is named in the answer and the log, never dropped
without a word: its creation event (or the next order update) records it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.app import Database
from bot.stores.port import Connector, FetchesOrders, OrderRow, StoreApi, is_partial
from storage.known_orders import known_orders


@dataclass
class Completed:
    """The rows ready for the import, and the order ids nobody could complete."""

    rows: list[OrderRow] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _filled(row: OrderRow, stored: OrderRow) -> OrderRow:
    """``row`` with its empty fields taken from the stored order's."""
    merged = dict(stored)
    merged.update({k: v for k, v in row.items() if v not in (None, "")})
    return merged


async def complete_rows(
    db: Database, connector: Connector, rows: list[OrderRow], api: StoreApi
) -> Completed:
    """Every row of ``rows`` complete, or its order id in ``unknown``."""
    done = Completed()
    partial = [row for row in rows if is_partial(row)]
    stored: dict[str, OrderRow] = {}
    if partial:
        async with db.sessions() as session:
            stored = await known_orders(session, {str(row["order_id"]) for row in partial})
    for row in rows:
        if not is_partial(row):
            done.rows.append(row)
        elif (known := stored.get(str(row["order_id"]))) is not None:
            done.rows.append(_filled(row, known))
        elif isinstance(connector, FetchesOrders) and (
            fetched := await connector.fetch_order(row, api)
        ):
            done.rows.append(fetched)
        else:
            done.unknown.append(str(row["order_id"]))
    return done
