"""Hypothesis-made hostile updates into every flow state, on both libraries and both databases.

One ``postsale run`` per library and database serves customers in every state a chat
can be in: invited (awaiting the NPS), awaiting the reason, awaiting the CSAT, done, in
a complaint, and not linked at all. Hypothesis throws at a random one of them what a
hostile or confused customer sends: out-of-range and non-numeric scores, NUL bytes and
lone surrogates, 5,000-character texts, buttons of other customers' surveys and made-up
button data, media, contacts with someone else's phone, edited messages, commands for
other bots or for operators, updates of unknown kinds and the same update twice.

After each example the customer's chat must still be answered; after them all the bot
process must still be running, no "victim" customer (never written to by anyone) may
have an answer recorded, and no log line may hold the token.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from benchmarks.throughput import seed
from bot.app import Database
from storage.models import SurveyResponse
from tests.conftest import PG_ADMIN_URL, _pg_admin
from tests.fakes import bot_api as tg
from tests.reliability.harness import BotProcess, bot_env, lines_with

pytestmark = pytest.mark.reliability

PER_STATE = 4
STATES = ("invited", "reason", "csat", "done", "complaint")
EXAMPLES = int(os.environ.get("POSTSALE_HOSTILE_EXAMPLES", "30"))


@dataclass
class Stage:
    """The bot under test, run from a thread of its own (Hypothesis tests are not async)."""

    loop: asyncio.AbstractEventLoop
    api: tg.FakeBotApi
    bot: BotProcess
    db_url: str
    chats: dict[int, str]  # chat -> the state it was put in
    victims: list[int]  # follow-up ids of customers nobody writes as
    followups: dict[int, int] = field(default_factory=dict)  # chat -> its follow-up

    def run(self, job: Coroutine[Any, Any, Any], within: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(job, self.loop).result(within)


async def _prepare(api: tg.FakeBotApi, seeded: list[tuple[int, int]]) -> dict[int, str]:
    """Walk each group of invited customers to its state; the chat's state by chat id."""
    chats: dict[int, str] = {}
    steps: dict[str, list[Callable[[int, int], dict[str, Any]]]] = {
        "invited": [],
        "reason": [lambda c, f: tg.callback(c, f"nps:{f}:3")],
        "csat": [lambda c, f: tg.callback(c, f"nps:{f}:9"), lambda c, f: tg.message(c, "ok")],
        "done": [
            lambda c, f: tg.callback(c, f"nps:{f}:10"),
            lambda c, f: tg.message(c, "great"),
            lambda c, f: tg.callback(c, f"csat:{f}:5"),
        ],
        "complaint": [lambda c, f: tg.message(c, "/problem")],
    }
    for n, (state, walk) in enumerate(steps.items()):
        group = seeded[n * PER_STATE : (n + 1) * PER_STATE]
        for chat, fid in group:
            chats[chat] = state
            for step in walk:
                before = len(api.sent(str(chat)))
                await api.inject(step(chat, fid))
                await api.wait_until(lambda c=chat, b=before: len(api.sent(str(c))) > b, 60)
    for n in range(PER_STATE):
        chats[40_000 + n] = "unlinked"
    return chats


@pytest.fixture(
    scope="module",
    params=[
        ("aiogram", "sqlite"),
        ("ptb", "sqlite"),
        pytest.param(("aiogram", "postgres"), marks=pytest.mark.postgres),
        pytest.param(("ptb", "postgres"), marks=pytest.mark.postgres),
    ],
    ids=lambda p: "-".join(p),
)
def stage(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stage]:
    framework, database = request.param
    tmp = tmp_path_factory.mktemp(f"hostile-{framework}-{database}")
    pg_name = ""
    if database == "sqlite":
        db_url = f"sqlite+aiosqlite:///{tmp / 'postsale.db'}"
    else:
        pg_name = f"postsale_hostile_{uuid.uuid4().hex[:8]}"
        try:
            asyncio.run(_pg_admin(f'CREATE DATABASE "{pg_name}"'))
        except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
            pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
        db_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{pg_name}"
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def up() -> Stage:
        total = PER_STATE * len(STATES) + PER_STATE  # the last group: victims
        seeded = await seed(db_url, total)
        victims = [fid for _, fid in seeded[PER_STATE * len(STATES) :]]
        api = tg.FakeBotApi()
        env = bot_env(db_url, await api.start(), tmp, BOT_FRAMEWORK=framework)
        env["SEND_RATE_GLOBAL"] = "1000"
        env["SEND_RATE_PER_CHAT"] = "1000"
        bot = BotProcess(env, tmp / "bot.log")
        await bot.start()
        found = Stage(loop, api, bot, db_url, {}, victims, dict(seeded))
        found.chats = await _prepare(api, seeded[: PER_STATE * len(STATES)])
        return found

    made = asyncio.run_coroutine_threadsafe(up(), loop).result(300)
    try:
        yield made
    finally:
        made.run(made.bot.close())
        made.run(made.api.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        if pg_name:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


NASTY_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(min_size=4000, max_size=5000),
    st.sampled_from(
        [
            "11",
            "-1",
            "10.5",
            "1e9",
            "٣",
            "  7  ",
            "0x5",
            "",
            " ",
            "abc\x00def",
            "\x00",
            "\ud800",
            "x\udfffy",
            "\u202etxet",
            "/help@other_bot",
            "/start",
            "/start not-a-token",
            "/start " + "A" * 300,
            "/reply 1 hi",
            "/resolve 1",
            "/kpi",
            "/tickets",
            "/ticket 1",
            "/history",
            "/mydata",
            "/stop",
            "/problem",
            "/language xx",
            "/nonsense",
        ]
    ),
)


def nasty_button(victims: list[int]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=64),
        st.sampled_from([f"nps:{v}:0" for v in victims] + [f"csat:{v}:1" for v in victims]),
        st.sampled_from(["nps:x:y", "nps:1:99", "csat:1:-3", "nps::", "skip:1", "lang:zz", ":"]),
    )


def hostile(chat: int, victims: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        NASTY_TEXT.map(lambda text: tg.message(chat, text)),
        NASTY_TEXT.map(lambda text: tg.edited_message(chat, text)),
        nasty_button(victims).map(lambda data: tg.callback(chat, data)),
        st.sampled_from(["+5511987654321", "not a phone", "+1", ""]).map(
            lambda phone: tg.contact(chat, phone, own=False)
        ),
        st.just(chat).map(tg.photo),
        st.just(chat).map(tg.sticker),
        st.just(None).map(lambda _: tg.unknown_kind()),
    )


@st.composite
def attack(
    draw: st.DrawFn, chats: list[int], victims: list[int]
) -> tuple[int, list[dict[str, Any]], bool]:
    chat = draw(st.sampled_from(chats))
    updates = draw(st.lists(hostile(chat, victims), min_size=1, max_size=4))
    return chat, updates, draw(st.booleans())


def test_hostile_updates_in_every_state_leave_the_bot_answering(stage: Stage) -> None:
    chats = sorted(stage.chats)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(attack(chats, stage.victims))
    def one(found: tuple[int, list[dict[str, Any]], bool]) -> None:
        chat, updates, twice = found
        for update in updates:
            update["update_id"] = stage.api.next_update_id()
        if twice:  # the same update delivered again, with its id
            updates.append(dict(updates[-1]))
        stage.run(stage.api.inject(*updates))
        probe = tg.message(chat, "/help")
        before = len(stage.api.sent(str(chat)))
        stage.run(stage.api.inject(probe))
        stage.run(
            stage.api.wait_until(lambda: len(stage.api.sent(str(chat))) > before, within=60),
            within=70,
        )
        assert stage.bot.process is not None and stage.bot.process.returncode is None

    one()

    async def victims_answers() -> int:
        db = await Database.open(stage.db_url)
        try:
            async with db.uow() as uow:
                query = select(func.count()).where(SurveyResponse.followup_id.in_(stage.victims))
                return int(await uow.session.scalar(query) or 0)
        finally:
            await db.close()

    assert stage.run(victims_answers()) == 0, "a customer's survey was answered by another"
    assert not lines_with(Path(stage.bot.log), tg.TOKEN)
