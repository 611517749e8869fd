"""``release_free_memory``: the C heap's free pages really go back to the system."""

from __future__ import annotations

import ctypes
import platform
import threading

import pytest

from bot.heap import release_free_memory

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)

BLOCKS, SIZE = 40_000, 1_000  # 40 MB in blocks malloc keeps in its heap, not mmap'd


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def free_all_but_the_last(libc: ctypes.CDLL) -> None:
    """Allocate and touch ``BLOCKS`` blocks, free all but the last: the heap's top stays
    in use, so free() alone cannot shrink it."""
    blocks = [libc.malloc(SIZE) for _ in range(BLOCKS)]
    for block in blocks:
        ctypes.memset(block, 1, SIZE)
    for block in blocks[:-1]:
        libc.free(block)


def test_pages_freed_inside_the_heap_are_handed_back() -> None:
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    # In a thread of its own, as a SQLite connection's: its own malloc arena.
    thread = threading.Thread(target=free_all_but_the_last, args=(libc,))
    thread.start()
    thread.join()
    before = rss_kib()

    assert release_free_memory()

    assert before - rss_kib() > 20_000  # most of the 40 MB freed
