"""``postsale run`` meets the Bot API: a wrong token, no server, and logs without secrets.

A real process talks to the fake Bot API server of this test process (which
answers a token it does not know 401 Unauthorized, as Telegram does), on both
libraries.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from bot.channels.telegram.webhook import SECRET_HEADER
from tests.e2e.postsale_process import start_postsale
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import TOKEN, FakeBotApi

FRAMEWORKS = ["aiogram", "ptb"]
WRONG_TOKEN = "654321:WRONG-secret-part-of-the-token"
WEBHOOK_SECRET = "webhook-secret-value-42"
INGEST_SECRET = "ingest-secret-value-43"


def settings(
    tmp_path: Path, framework: str, api_url: str, token: str, level: str
) -> dict[str, str]:
    return {
        "BOT_TOKEN": token,
        "BOT_FRAMEWORK": framework,
        "TELEGRAM_API_URL": api_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'postsale.db'}",
        "DATA_DIR": str(tmp_path / "files"),
        "HTTP_PORT": "0",
        "LOG_LEVEL": level,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "INGEST_SECRET": INGEST_SECRET,
    }


async def finished(process: asyncio.subprocess.Process, within: float = 90) -> tuple[int, str]:
    """Its exit code and all it wrote (stdout and stderr)."""
    out, err = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode is not None
    return process.returncode, out.decode() + err.decode()


def said(output: str) -> list[str]:
    """The lines of output but the database line."""
    return [line for line in output.splitlines() if not line.startswith("postsale: database ")]


async def run_until_stopped(
    tmp_path: Path, env: dict[str, str], api: FakeBotApi, meanwhile: Callable[[], Awaitable[None]]
) -> tuple[int, str]:
    """``postsale run`` until ``meanwhile`` is done, then SIGTERM: its exit code and output."""
    process = await start_postsale("run", cwd=tmp_path, **env)
    try:
        await meanwhile()
        process.send_signal(signal.SIGTERM)
        return await finished(process)
    finally:
        if process.returncode is None:
            process.kill()
        await api.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_with_wrong_token(
    tmp_path: Path, framework: str, level: str
) -> tuple[FakeBotApi, str, int, str]:
    """``postsale run`` with a token the server does not know: the server, its URL,
    the exit code and the output."""
    api = FakeBotApi(tokens={TOKEN})
    url = await api.start()
    try:
        env = settings(tmp_path, framework, url, WRONG_TOKEN, level)
        code, output = await finished(await start_postsale("run", cwd=tmp_path, **env))
    finally:
        await api.close()
    return api, url, code, output


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_wrong_token_is_one_line_saying_what_to_do_and_a_failed_exit(
    framework: str, tmp_path: Path
) -> None:
    api, url, code, output = await run_with_wrong_token(tmp_path, framework, "INFO")
    assert code == 1
    assert said(output) == [
        f"postsale: BOT_TOKEN was rejected by the Bot API at {url} (Unauthorized):"
        " copy the bot's token from @BotFather into BOT_TOKEN"
    ]
    assert [call.method for call in api.calls] == ["getMe"]  # nothing sent, nothing polled


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_no_bot_api_to_reach_is_one_line_naming_telegram_api_url(
    framework: str, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    env = settings(tmp_path, framework, url, TOKEN, "INFO")
    code, output = await finished(await start_postsale("run", cwd=tmp_path, **env))
    assert code == 1
    [line] = said(output)
    assert line.startswith(f"postsale: cannot reach the Bot API at {url} (")
    assert line.endswith("): check the network connection, or TELEGRAM_API_URL")


def assert_no_secret(output: str, token: str) -> None:
    for secret in (token, token.partition(":")[2], WEBHOOK_SECRET, INGEST_SECRET):
        assert secret not in output


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_at_debug_a_run_logs_no_token_or_secret(framework: str, tmp_path: Path) -> None:
    api = FakeBotApi(tokens={TOKEN})
    url = await api.start()
    env = settings(tmp_path, framework, url, TOKEN, "DEBUG")

    async def running() -> None:  # the menu is set and long polling has begun
        await api.wait_until(lambda: bool(api.of("getUpdates")), within=90)

    code, output = await run_until_stopped(tmp_path, env, api, running)
    assert code == 0, output
    if framework == "ptb":  # httpx logs each answered request's URL, the token masked
        assert f"{url}/bot***/getMe" in output
    assert_no_secret(output, TOKEN)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_at_debug_a_rejected_token_is_not_logged(framework: str, tmp_path: Path) -> None:
    api, url, code, output = await run_with_wrong_token(tmp_path, framework, "DEBUG")
    assert code == 1
    assert "BOT_TOKEN was rejected" in output
    assert_no_secret(output, WRONG_TOKEN)


async def test_a_taken_http_port_is_one_line_naming_it_before_anything_is_polled(
    tmp_path: Path,
) -> None:
    api = FakeBotApi(tokens={TOKEN})
    url = await api.start()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        env = {**settings(tmp_path, "aiogram", url, TOKEN, "INFO"), "HTTP_PORT": str(port)}
        try:
            code, output = await finished(await start_postsale("run", cwd=tmp_path, **env))
        finally:
            await api.close()
    assert code == 1
    [line] = said(output)
    assert line.startswith(f"postsale: HTTP_HOST:HTTP_PORT 127.0.0.1:{port}: cannot listen (")
    assert [call.method for call in api.calls] == ["getMe"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_webhook_run_serves_the_channels_route_and_logs_no_secret(
    framework: str, tmp_path: Path
) -> None:
    api = FakeBotApi(tokens={TOKEN})
    url = await api.start()
    port = closed_port()
    env = {
        **settings(tmp_path, framework, url, TOKEN, "DEBUG"),
        "HTTP_PORT": str(port),
        "WEBHOOK_URL": "https://bot.example.test/tg/hook",
    }
    hook = f"http://127.0.0.1:{port}/tg/hook"
    update = {"update_id": 900, **tg.message(777, "hello")}

    async def served() -> None:
        # The server listens before the webhook is set, so Telegram's first post is served.
        await api.wait_until(lambda: api.webhook() is not None, within=90)
        async with aiohttp.ClientSession() as http:
            async with http.post(hook, json=update) as refused:
                assert refused.status == 401
            headers = {SECRET_HEADER: WEBHOOK_SECRET}
            async with http.post(hook, json=update, headers=headers) as taken:
                assert taken.status == 200
        await api.wait_until(lambda: bool(api.texts("777")), within=30)

    code, output = await run_until_stopped(tmp_path, env, api, served)
    assert code == 0, output
    assert api.of("getUpdates") == []  # webhook mode: nothing polled
    assert_no_secret(output, TOKEN)
