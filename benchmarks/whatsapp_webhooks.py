"""The two webhooks ``benchmarks.throughput --whatsapp`` measures, each a child process.

    python -m benchmarks.whatsapp_webhooks full|bare    # settings from the environment

``full`` is ``postsale run`` (WhatsApp alone); ``bare`` checks the signature and answers
200. With ``BENCH_PROFILE=PATH`` the child runs under cProfile and writes ``PATH.full``
(or ``.bare``); it prints its peak RSS as JSON when it stops (SIGTERM).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from benchmarks.throughput import _maxrss_kb, tune_garbage_collector


async def child_full() -> None:
    from bot.channels.whatsapp import profile
    from bot.entrypoints.runner import run_bot
    from bot.settings import load_settings

    # Meta lets a business burst to one user; the channel's own one a second per chat
    # would measure the pacing (10 replies a customer), not the bot.
    profile.PER_CHAT_RATE = 1_000_000.0
    await run_bot(load_settings())


async def child_bare() -> None:
    """A webhook the aiohttp way: check the signature, answer 200."""
    import hashlib
    import hmac

    from aiohttp import web

    secret = os.environ["WHATSAPP_APP_SECRET"].encode()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
            return web.json_response({"error": "wrong signature"}, status=401)
        return web.json_response({})

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/whatsapp", receive)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ["HTTP_PORT"])).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    tune_garbage_collector()
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    if sys.argv[1:] not in (["full"], ["bare"]):
        sys.exit("run it as: python -m benchmarks.throughput --whatsapp")
    job = child_full if sys.argv[1] == "full" else child_bare
    if profile_to := os.environ.get("BENCH_PROFILE"):  # where the time goes (pstats file)
        import cProfile

        cProfile.run("asyncio.run(job())", f"{profile_to}.{sys.argv[1]}")
    else:
        asyncio.run(job())
    print(json.dumps({"maxrss_kb": _maxrss_kb()}), flush=True)
