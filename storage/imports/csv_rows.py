"""CSV files read one row at a time, each row with the line it starts on."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from storage.imports.rows import Row, RowError

ROW_ERROR = "\0row_error"
"""Key under which ``CsvRows`` passes on why a line could not be split into the columns."""


class CsvHeaderError(ValueError):
    """The file is not a CSV file with the required columns."""


def check_shape(row: Mapping[str, Any]) -> None:
    """Refuse a line that did not split into the header's columns."""
    problem = row.get(ROW_ERROR)
    if problem:
        raise RowError(str(problem))


class CsvRows:
    """The rows of an open CSV file, each with the line it starts on; read lazily.

    The header must hold every name in ``required``; otherwise ``CsvHeaderError``.
    """

    def __init__(self, handle: TextIO, required: Sequence[str]) -> None:
        self._reader = csv.reader(handle)
        try:
            header = next(self._reader, None)
        except UnicodeDecodeError as exc:
            raise CsvHeaderError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        except csv.Error as exc:
            raise CsvHeaderError(f"not a readable CSV file: {exc}") from exc
        if not header:
            raise CsvHeaderError("the file is empty (no header line)")
        self.columns: tuple[str, ...] = tuple(
            name.strip().lower().lstrip("\ufeff") for name in header
        )
        missing = [name for name in required if name not in self.columns]
        if missing:
            raise CsvHeaderError(
                f"missing column(s) {', '.join(missing)}; the header has {', '.join(self.columns)}"
            )

    def __iter__(self) -> Iterator[Row]:
        reader, columns, width = self._reader, self.columns, len(self.columns)
        last = reader.line_num
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield reader.line_num, {ROW_ERROR: f"unreadable CSV line: {exc}"}
                continue
            if not values:
                continue  # a blank line
            # One line read: no line break inside the row (the common, cheap case).
            line = (
                last + 1 if reader.line_num == last + 1 else reader.line_num - _line_breaks(values)
            )
            last = reader.line_num
            if len(values) == width:
                yield line, dict(zip(columns, values, strict=True))
            else:
                yield line, {ROW_ERROR: f"{len(values)} fields where the header has {width}"}


def _line_breaks(values: list[str]) -> int:
    """Line breaks inside quoted fields: the row started that many lines before its end."""
    breaks = 0
    for value in values:
        if "\n" in value or "\r" in value:
            breaks += value.count("\n") + value.count("\r") - value.count("\r\n")
    return breaks


def open_csv(path: Path) -> TextIO:
    """Open ``path`` for ``CsvRows`` (UTF-8, a byte-order mark allowed)."""
    return path.open(newline="", encoding="utf-8-sig")
