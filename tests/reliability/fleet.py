"""Several ``postsale run`` processes in webhook mode on one database, behind a balancer.

Each process listens on a port of its own; ``Fleet.post`` plays the load balancer in
front of them: the posts go round the processes in turn, and one whose connection is
refused (a killed process) or that answers 503 (stopping) is passed over for the next.
Telegram's rule holds for the caller: a chat's next update is posted once the previous
one was answered 200, which the bot does only after committing it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.channels.telegram.webhook import SECRET_HEADER
from tests.reliability.api_process import FAVOUR, ApiProcess
from tests.reliability.harness import BotProcess, bot_env

SECRET = "scale-test-webhook-secret"
HOOK_PATH = "/telegram/webhook"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Fleet:
    """``processes`` bots; ``await start()``, ``await post(update)``, ``await close()``."""

    def __init__(
        self,
        processes: int,
        db_url: str,
        api: ApiProcess,
        tmp: Path,
        **settings: str,
    ) -> None:
        api_url = api.url
        self.niced = 0 if api.favoured else FAVOUR
        self.ports = [free_port() for _ in range(processes)]
        self.bots = [
            BotProcess(
                bot_env(
                    db_url,
                    api_url,
                    tmp,
                    WEBHOOK_URL=f"https://bot.example{HOOK_PATH}",
                    WEBHOOK_SECRET=SECRET,
                    HTTP_HOST="127.0.0.1",
                    HTTP_PORT=str(port),
                    **settings,
                ),
                tmp / f"bot{n}.log",
            )
            for n, port in enumerate(self.ports)
        ]
        self.dead: set[int] = set()
        self._turn = itertools.cycle(range(processes))
        self._client: aiohttp.ClientSession | None = None

    async def start(self, within: float = 180) -> None:
        self._client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256),
            timeout=aiohttp.ClientTimeout(total=60),
        )
        for bot in self.bots:
            await bot.start()
            assert bot.process is not None
            if self.niced:  # the fake server could not be raised above them (api_process)
                mine = os.getpriority(os.PRIO_PROCESS, 0)
                os.setpriority(os.PRIO_PROCESS, bot.process.pid, mine + self.niced)
        async with asyncio.timeout(within):
            for n in range(len(self.bots)):
                while not await self._healthy(n):  # noqa: ASYNC110 - another process
                    await asyncio.sleep(0.2)

    async def _healthy(self, n: int) -> bool:
        assert self._client is not None
        try:
            async with self._client.get(self.url(n, "/healthz")) as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    def url(self, n: int, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[n]}{path}"

    async def post(self, update: dict[str, Any], within: float = 60) -> int:
        """Post one update until a process accepts it; which process did."""
        assert self._client is not None
        async with asyncio.timeout(within):
            while True:
                n = next(self._turn)
                if n in self.dead:
                    continue
                try:
                    async with self._client.post(
                        self.url(n, HOOK_PATH), json=update, headers={SECRET_HEADER: SECRET}
                    ) as response:
                        if response.status == 200:
                            return n
                except aiohttp.ClientConnectionError:
                    pass  # refused or cut: the balancer tries the next process
                await asyncio.sleep(0.01)

    async def scrape(self, n: int) -> dict[str, float]:
        """Process ``n``'s ``/metrics``: every sample by name (the Telegram channel's)."""
        assert self._client is not None
        async with self._client.get(self.url(n, "/metrics")) as response:
            page = await response.text()
        found: dict[str, float] = {}
        for family in text_string_to_metric_families(page):
            for sample in family.samples:
                if sample.labels.get("channel", "telegram") == "telegram":
                    found[sample.name] = found.get(sample.name, 0.0) + sample.value
        return found

    async def scrape_all(self) -> list[dict[str, float]]:
        alive = [n for n in range(len(self.bots)) if n not in self.dead]
        return list(await asyncio.gather(*(self.scrape(n) for n in alive)))

    async def sender(self) -> int:
        """The one process whose ``postsale_outbox_sender`` is 1 (asserted alone)."""
        alive = [n for n in range(len(self.bots)) if n not in self.dead]
        gauges = [(await self.scrape(n)).get("postsale_outbox_sender", -1.0) for n in alive]
        assert sorted(gauges) == [0.0] * (len(alive) - 1) + [1.0], gauges
        return alive[gauges.index(1.0)]

    async def kill(self, n: int) -> None:
        self.dead.add(n)
        await self.bots[n].kill()

    def cpu_seconds(self) -> float:
        """User + system CPU of the live processes so far (all their threads)."""
        total = 0.0
        for n, bot in enumerate(self.bots):
            if n in self.dead or bot.process is None:
                continue
            fields = Path(f"/proc/{bot.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
        return total

    async def stop(self) -> list[int]:
        """SIGTERM the live processes; their exit codes."""
        alive = [bot for n, bot in enumerate(self.bots) if n not in self.dead]
        return list(await asyncio.gather(*(bot.stop() for bot in alive)))

    async def close(self) -> None:
        for bot in self.bots:
            await bot.close()
        if self._client is not None:
            await self._client.close()
