"""``LOG_FORMAT=json`` in a real ``postsale run``: every log line is one JSON object, the
lines about an update name it, and no secret is in any line (at DEBUG, where
python-telegram-bot's httpx logs each request's URL with the token in it)."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_bot_api_startup import (
    assert_no_secret,
    closed_port,
    run_until_stopped,
    said,
    settings,
)
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import TOKEN, FakeBotApi


async def test_a_json_run_logs_objects_with_the_update_and_no_secret(tmp_path: Path) -> None:
    api = FakeBotApi(tokens={TOKEN})
    url = await api.start()
    port = closed_port()
    env = {
        **settings(tmp_path, "ptb", url, TOKEN, "DEBUG"),
        "LOG_FORMAT": "json",
        "HTTP_SERVER": "on",
        "HTTP_PORT": str(port),
        "INGEST_SECRET": "",
        "WEBHOOK_SECRET": "",
    }
    handled: list[float] = []

    async def chatted() -> None:
        await api.wait_until(lambda: bool(api.of("getUpdates")), within=90)
        await api.inject(tg.message(777, "/help"))
        await api.wait_until(lambda: bool(api.texts("777")), within=30)
        # HTTP_SERVER=on serves a polling bot
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/metrics") as page,
        ):
            text = await page.text()
        for family in text_string_to_metric_families(text):
            handled.extend(
                s.value for s in family.samples if s.name == "postsale_updates_handled_total"
            )

    code, output = await run_until_stopped(tmp_path, env, api, chatted)
    assert code == 0, output
    assert handled == [1.0]
    lines = [json.loads(line) for line in said(output)]  # each line is one JSON object
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    about = [line for line in lines if line.get("chat") == "777"]
    assert about and all(line["channel"] == "telegram" and line["update_id"] for line in about)
    assert any("duration_ms" in line for line in about)
    assert any("/bot***/getMe" in line["message"] for line in lines)  # httpx's, masked
    assert_no_secret(output, TOKEN)
