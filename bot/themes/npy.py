"""Reading numpy's ``.npz`` archives of plain arrays with the standard library.

An ``.npz`` is a zip of ``.npy`` files, whose layout numpy documents
(``numpy.lib.format``): a magic string, a version, a header that is a Python dict
literal (``descr``, ``fortran_order``, ``shape``), then the values in C order. A themes
model holds only little-endian floats and fixed-width unicode strings (``<f4``, ``<f8``,
``<U``), so only those are read; anything else is a ``ValueError``.
"""

from __future__ import annotations

import ast
import math
import struct
import sys
import zipfile
from array import array
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"\x93NUMPY"
_FLOATS = {"<f4": "f", "<f8": "d"}


@dataclass(frozen=True)
class Stored:
    """One array of the archive: its dtype (``descr``), shape and raw values."""

    name: str
    descr: str
    shape: tuple[int, ...]
    body: memoryview

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def numbers(self) -> array[float]:
        code = _FLOATS.get(self.descr)
        if code is None:
            raise ValueError(f"{self.name}: {self.descr} is not an array of floats")
        values: array[float] = array(code)
        values.frombytes(self.body[: self.size * values.itemsize])
        if len(values) != self.size:
            raise ValueError(f"{self.name}: {len(values)} values for shape {self.shape}")
        if sys.byteorder == "big":
            values.byteswap()
        return values

    def strings(self) -> list[str]:
        if not self.descr.startswith("<U"):
            raise ValueError(f"{self.name}: {self.descr} is not an array of strings")
        width = int(self.descr[2:])  # characters, each 4 bytes of UTF-32, NUL-padded
        if len(self.body) < self.size * width * 4:
            raise ValueError(f"{self.name}: too short for shape {self.shape}")
        text = str(self.body[: self.size * width * 4], "utf-32-le")
        return [text[i : i + width].rstrip("\x00") for i in range(0, len(text), width)]

    def only_string(self) -> str:
        if self.shape != ():
            raise ValueError(f"{self.name}: not a single string")
        return self.strings()[0]


class Npz:
    """An open ``.npz`` archive, each array read when asked for (by name, no ``.npy``).

    One at a time, so that a model's megabytes of vocabulary are decoded and let go
    before its weights are read: a process keeps its peak, not what it holds.
    """

    def __init__(self, path: Path) -> None:
        self._archive = zipfile.ZipFile(path)
        names = self._archive.namelist()
        self.names = frozenset(n.removesuffix(".npy") for n in names if n.endswith(".npy"))

    def __enter__(self) -> Npz:
        return self

    def __exit__(self, *exc: object) -> None:
        self._archive.close()

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __getitem__(self, name: str) -> Stored:
        if name not in self.names:
            raise KeyError(name)
        return _parse(name, memoryview(self._archive.read(f"{name}.npy")))


def read_npz(path: Path) -> dict[str, Stored]:
    """Every array of the archive at ``path``, by name (without ``.npy``)."""
    with Npz(path) as archive:
        return {name: archive[name] for name in archive.names}


def _parse(name: str, data: memoryview) -> Stored:
    if data[: len(MAGIC)] != MAGIC or len(data) < 10:
        raise ValueError(f"{name}: not a .npy array")
    major = data[6]
    if major == 1:
        (length,) = struct.unpack_from("<H", data, 8)
        start = 10
    elif major in (2, 3):
        (length,) = struct.unpack_from("<I", data, 8)
        start = 12
    else:
        raise ValueError(f"{name}: .npy format version {major} is not known")
    header = ast.literal_eval(
        str(data[start : start + length], "utf-8" if major == 3 else "latin-1")
    )
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ValueError(f"{name}: a .npy header without descr, fortran_order and shape")
    shape = tuple(header["shape"])
    if header["fortran_order"] and len(shape) > 1:
        raise ValueError(f"{name}: stored in Fortran order")
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError(f"{name}: shape {shape}")
    return Stored(name, str(header["descr"]), shape, data[start + length :])
