"""SIGKILL ``postsale run`` at random moments while customers answer their surveys.

300 customers each press an NPS score, type a reason and press a CSAT score; the bot
process is killed three times while it works through them and started again. Every
answer must be recorded exactly once, every survey must reach its end (no
conversation stuck), and the bot must still answer.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from benchmarks.throughput import seed
from bot.app import Database
from storage.models import SurveyResponse
from tests.fakes import bot_api as tg
from tests.reliability.harness import BotProcess, bot_env, lines_with, outbox_statuses

pytestmark = pytest.mark.reliability

CUSTOMERS = 300
KILLS = 3


async def answers(db: Database) -> Counter[tuple[int, str]]:
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(SurveyResponse.followup_id, SurveyResponse.kind, func.count()).group_by(
                SurveyResponse.followup_id, SurveyResponse.kind
            )
        )
        return Counter({(int(f), str(k)): int(n) for f, k, n in rows.all()})


async def test_every_answer_is_recorded_once_across_three_sigkills(
    db_url: str, db: Database, tmp_path: Path
) -> None:
    seeded = await seed(db_url, CUSTOMERS)
    api = tg.FakeBotApi()
    log = tmp_path / "bot.log"
    env = bot_env(db_url, await api.start(), tmp_path, SEND_RATE_GLOBAL="1000")
    steps = [
        lambda chat, fid: tg.callback(chat, f"nps:{fid}:8"),
        lambda chat, fid: tg.message(chat, "it came a day late"),
        lambda chat, fid: tg.callback(chat, f"csat:{fid}:4"),
    ]
    for step in steps:
        await api.inject(*(step(chat, fid) for chat, fid in seeded))
    total = CUSTOMERS * len(steps)
    rng = random.Random(7)
    bot = BotProcess(env, log)
    try:
        for _ in range(KILLS):
            before = api.confirmed()
            await bot.start()
            # Killed once it is handling updates, at a random moment of its work.
            await api.wait_until(lambda b=before: api.confirmed() > b or not api.pending(), 120)
            await asyncio.sleep(rng.uniform(0.1, 1.5))
            await bot.kill()
        await bot.start()
        await api.wait_until(lambda: not api.pending(), within=180)
        async with asyncio.timeout(120):
            while sum((await answers(db)).values()) < 2 * CUSTOMERS:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        async with asyncio.timeout(180):  # the replies still in the outbox go out too
            while (await outbox_statuses(db)).get("queued"):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        # Still answering after all that.
        chat = seeded[0][0]
        seen = len(api.sent(str(chat)))
        await api.inject(tg.message(chat, "/help"))
        await api.wait_until(lambda: len(api.sent(str(chat))) > seen, within=30)
        assert await bot.stop() == 0
    finally:
        await bot.close()
        await api.close()

    recorded = await answers(db)
    expected = {(fid, kind) for _, fid in seeded for kind in ("nps", "csat")}
    assert set(recorded) == expected, f"missing: {sorted(expected - set(recorded))[:5]}"
    assert all(n == 1 for n in recorded.values()), "an answer was recorded twice"
    assert api.confirmed() > 0 and not api.pending(), f"{total} updates, some never handled"
    replies = Counter(call.chat_id for call in api.sent())
    stuck = [chat for chat, _ in seeded if replies[str(chat)] < len(steps)]
    assert not stuck, f"{len(stuck)} surveys never reached their end, e.g. chat {stuck[0]}"
    assert not lines_with(log, tg.TOKEN)
