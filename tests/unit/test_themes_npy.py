"""bot.themes.npy: numpy's .npz archives read without numpy, against numpy's own writer."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bot.themes.npy import read_npz


def test_floats_and_strings_come_back_as_numpy_wrote_them(tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    grid = np.arange(12, dtype=np.float32).reshape(4, 3) / 7
    words = np.array(["w nao", "chegou", "ç à", "x"])
    np.savez_compressed(
        path, grid=grid, wide=np.linspace(0, 1, 5), words=words, meta=np.array('{"a": 1}')
    )
    data = read_npz(path)
    assert set(data) == {"grid", "wide", "words", "meta"}
    assert data["grid"].shape == (4, 3)
    assert list(data["grid"].numbers()) == grid.ravel().tolist()
    assert list(data["wide"].numbers()) == np.linspace(0, 1, 5).tolist()
    assert data["words"].strings() == ["w nao", "chegou", "ç à", "x"]
    assert data["meta"].only_string() == '{"a": 1}'


def test_a_version_2_header_is_read(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ones(3), version=(2, 0))
    path = tmp_path / "v2.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ones.npy", buffer.getvalue())
    assert list(read_npz(path)["ones"].numbers()) == [1.0, 1.0, 1.0]


def test_what_a_model_never_holds_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, ints=np.arange(3), floats=np.ones(2))
    data = read_npz(path)
    with pytest.raises(ValueError, match="ints: <i8 is not an array of floats"):
        data["ints"].numbers()
    with pytest.raises(ValueError, match="floats: <f8 is not an array of strings"):
        data["floats"].strings()
    with pytest.raises(ValueError, match="floats: not a single string"):
        data["floats"].only_string()
    broken = tmp_path / "broken.npz"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("junk.npy", b"not numpy at all")
    with pytest.raises(ValueError, match="junk: not a .npy array"):
        read_npz(broken)


def test_fortran_order_and_short_bodies_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "fortran.npz"
    np.savez(path, grid=np.asfortranarray(np.ones((2, 2))))
    with pytest.raises(ValueError, match="grid: stored in Fortran order"):
        read_npz(path)
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ones(4))
    short = tmp_path / "short.npz"
    with zipfile.ZipFile(short, "w") as archive:
        archive.writestr("cut.npy", buffer.getvalue()[:-8])  # the last float cut off
    with pytest.raises(ValueError, match=r"cut: 3 values for shape \(4,\)"):
        read_npz(short)["cut"].numbers()
