"""Imports of orders, survey answers and marketing spend: the public names.

Each importer reads numbered rows lazily (``CsvRows`` for a file, ``numbered`` for a
list), rejects bad rows with their line and reason, and upserts the rest in batches,
one transaction each, so that importing the same rows again changes nothing.
"""

from storage.imports.csv_rows import CsvHeaderError, CsvRows, open_csv
from storage.imports.duplicates import replaced_lines
from storage.imports.orders import (
    ORDER_COLUMNS,
    REQUIRED_ORDER_COLUMNS,
    OrderOptions,
    import_orders,
    parse_order,
)
from storage.imports.responses import (
    REQUIRED_RESPONSE_COLUMNS,
    RESPONSE_COLUMNS,
    import_responses,
    parse_response,
)
from storage.imports.rows import ImportReport, Rejection, Row, RowError, numbered
from storage.imports.spend import REQUIRED_SPEND_COLUMNS, SPEND_COLUMNS, import_spend, parse_spend

__all__ = [
    "ORDER_COLUMNS",
    "REQUIRED_ORDER_COLUMNS",
    "REQUIRED_RESPONSE_COLUMNS",
    "REQUIRED_SPEND_COLUMNS",
    "RESPONSE_COLUMNS",
    "SPEND_COLUMNS",
    "CsvHeaderError",
    "CsvRows",
    "ImportReport",
    "OrderOptions",
    "Rejection",
    "Row",
    "RowError",
    "import_orders",
    "import_responses",
    "import_spend",
    "numbered",
    "open_csv",
    "parse_order",
    "parse_response",
    "parse_spend",
    "replaced_lines",
]
