"""The same order twice in one import: which rows a later row replaces.

The last row of an order wins. Finding that out needs the whole file, and the writer
must know it at the earlier row (written before, it would be overwritten on every
re-import, and each import would count both rows as updated), so the rows are read
once beforehand for their order ids alone. What that keeps is a 64-bit hash and a line
number a row (16 bytes, 16 MB for a million rows) plus, for a moment, the sorted
hashes: the file itself never sits in memory. Two different ids share a hash once in
about 10^8 million-row files; their earlier row would then be reported as replaced.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

from flows.text_safety import clean_text
from storage.imports.csv_rows import ROW_ERROR
from storage.imports.rows import Row


def order_key(row: Mapping[str, Any]) -> str | None:
    """The order id ``parse_order`` will read from ``row``; None when it will refuse it."""
    if row.get(ROW_ERROR):
        return None
    value = row.get("order_id")
    if isinstance(value, str):
        return clean_text(value).strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def replaced_lines(rows: Iterable[Row]) -> dict[int, int]:
    """``{line: line of the next row with the same order id}`` for each row replaced."""
    hashes, lines = array("q"), array("q")
    for line, row in rows:
        key = order_key(row)
        if key is not None:
            hashes.append(hash(key))
            lines.append(line)
    repeated = {a for a, b in pairwise(sorted(hashes)) if a == b}
    replaced: dict[int, int] = {}
    next_line: dict[int, int] = {}
    for index in range(len(hashes) - 1, -1, -1):
        key_hash = hashes[index]
        if key_hash in repeated:
            if key_hash in next_line:
                replaced[lines[index]] = next_line[key_hash]
            next_line[key_hash] = lines[index]
    return replaced
