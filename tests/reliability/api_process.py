"""The fake Bot API server in a process of its own, and what it received.

Several bot processes send to it at once while the test posts thousands of webhooks: run
in the test's own event loop, its arrival stamps would wait for the test's work, and a
one-second window of arrivals would say more about the test than about the senders.
Here it has a process (and a CPU share) to itself; ``time.monotonic`` is the machine's,
so its stamps compare with the test's.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from tests.fakes.bot_api import EDITS, SENDS, FakeBotApi


@dataclass(frozen=True)
class Arrival:
    """A send or an edit as the server stamped it (``time.monotonic``)."""

    method: str
    chat_id: str
    at: float
    text: str
    buttons: tuple[str, ...]


def _serve(conn: Connection) -> None:
    asyncio.run(_main(conn))


async def _main(conn: Connection) -> None:
    api = FakeBotApi()
    conn.send(await api.start())
    loop = asyncio.get_running_loop()
    while True:
        since = await loop.run_in_executor(None, conn.recv)
        if since is None:
            break
        calls = api.calls[since:]
        conn.send(
            (
                len(api.calls),
                [
                    Arrival(c.method, c.chat_id, c.at, c.text, tuple(c.callback_data))
                    for c in calls
                    if c.method in SENDS | EDITS
                ],
            )
        )
    await api.close()
    conn.send("closed")


class ApiProcess:
    """``url = await ApiProcess().start()``; ``await refresh()`` brings ``arrivals`` up to
    date (sends and edits, in the server's order)."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self.by_chat: dict[str, list[Arrival]] = {}
        self._seen = 0
        self._lock = asyncio.Lock()
        self._conn: Connection | None = None
        self._process: Any = None
        self.favoured = False  # the server runs above the test's priority
        self.url = ""

    async def start(self) -> str:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs,), daemon=True)
        self._process.start()
        theirs.close()  # the child's end: once the child is gone, a read ends at EOF
        self._conn = ours
        self.favoured = _favour(self._process.pid)
        self.url = str(await asyncio.to_thread(ours.recv))
        return self.url

    async def refresh(self) -> list[Arrival]:
        """The arrivals since the last refresh (also appended to ``arrivals``)."""
        assert self._conn is not None
        async with self._lock:
            conn = self._conn
            self._seen, new = await asyncio.to_thread(_ask, conn, self._seen)
        for arrival in new:
            self.arrivals.append(arrival)
            self.by_chat.setdefault(arrival.chat_id, []).append(arrival)
        return list(new)

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.send(None)
                await asyncio.to_thread(conn.poll, 10)
            except (OSError, EOFError):
                pass
            conn.close()
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()


FAVOUR = 5  # nice steps between the fake server and the bots


def _favour(pid: int) -> bool:
    """Raise the server above the test's priority, where the test may (root, CAP_SYS_NICE).

    Its arrival stamps are the measure of the send rate: starved of CPU, it stamps
    queued arrivals in a burst. Raising it leaves the bots at the machine's own
    priority; lowering them instead (``Fleet``'s fallback) has them yield to every
    other process on a shared machine, not only to the server.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, pid, os.getpriority(os.PRIO_PROCESS, 0) - FAVOUR)
    except PermissionError:
        return False
    return True


def _ask(conn: Connection, since: int) -> tuple[int, list[Arrival]]:
    conn.send(since)
    if not conn.poll(30):
        raise TimeoutError("the fake Bot API server's process does not answer")
    seen, new = conn.recv()
    return int(seen), list(new)


def busiest_second(stamps: list[float]) -> int:
    """The most stamps in any window of one second."""
    ordered, most, start = sorted(stamps), 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most
