"""Three ``postsale run`` processes on one PostgreSQL database, behind a load balancer.

Each process runs in webhook mode on its own port, with its scheduler, its engine and
(in the one holding the lease) the outbox sender, against the fake Bot API server in a
process of its own. Customers seeded in bulk (linked chats, orders delivered two days
ago, the contact window open all day) are invited by the processes' schedulers; each
answers once the invitation reached the fake server, every update posted through the
balancer after the previous one of its chat was accepted.

Checked: every invitation arrived exactly once, every answer was recorded once, each
chat's updates were handled and its messages delivered in order, never more than
``SEND_RATE_GLOBAL`` sends in any second of the server's arrivals, and the counts of
every process's ``/metrics`` add up to the database's. Then the process holding the
sender lease is SIGKILLed with replies queued: the others go on taking updates, and
sending resumes within 10 seconds.

Sizes: issue 20's, 3,000 customers and 10,000 updates (2 min 16 s twice on the 2-core
machine at load average 1 to 1.5, at most 200 arrivals in any second at a limit of 200
both times). They once failed the rate check at these sizes (205 in one second at 200),
when the pacer counted a send from when it left; it now counts it until a second after
its answer, which bounds the arrivals whatever the jitter (``bot.delivery.limits.Pacer``).
``RATE`` is above Telegram's 30 a second so that the test drains in seconds; the check is
the point.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.app import Database
from bot.delivery.limits import SendLimits
from tests.fakes import bot_api as tg
from tests.reliability import campaign as cp
from tests.reliability.api_process import ApiProcess, busiest_second
from tests.reliability.fleet import Fleet
from tests.reliability.harness import lines_with

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.parametrize(
        "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
    ),
]

PROCESSES = 3
CUSTOMERS = 3_000
UPDATES = 10_000
RATE = 200  # SEND_RATE_GLOBAL: well above Telegram's, so that the test drains in seconds
# Posts in flight: about ten updates in hand per process keep each pool far under its
# 32 connections. At 64, three pools came near PostgreSQL's 100 with the test's own, and
# on a server shared with other work the connections ran out ("too many clients"): an
# invitation sent but not recorded was sent again, and the checks failed.
IN_FLIGHT = 30
TAKEOVER_WITHIN = 10.0
BACKLOG = RATE * 10  # replies queued when the sender is killed: 10 s of sending
SETTINGS = {
    "SEND_RATE_GLOBAL": str(RATE),
    "CONTACT_WINDOW": "00:00-24:00",
    "LOG_LEVEL": "WARNING",
}


async def test_three_processes_share_the_work_and_the_sender_fails_over(
    db_url: str, db: Database, tmp_path: Path
) -> None:
    began = time.monotonic()
    chats = await cp.seed(db, CUSTOMERS)
    api = ApiProcess()
    await api.start()
    fleet = Fleet(PROCESSES, db_url, api, tmp_path, **SETTINGS)
    try:
        await fleet.start()
        started = time.monotonic()
        customers = cp.Customers(fleet, api, chats, UPDATES, in_flight=IN_FLIGHT)
        # Generous bounds: on loaded cores the campaign took three times CI's minutes.
        await customers.play(within=1200)
        played = time.monotonic()
        await cp.until_drained(db, within=600)
        drained = time.monotonic()
        await api.refresh()
        await check_campaign(db, api, customers)
        await check_metrics(db, fleet)
        took = await kill_the_sender(db, api, fleet, chats)
        print(
            f"start-up {started - began:.0f} s, updates {played - started:.0f} s, "
            f"draining {drained - played:.0f} s, the SIGKILL {time.monotonic() - drained:.0f} s"
        )
        print(f"{PROCESSES} processes: sending resumed {took:.1f} s after the SIGKILL", flush=True)
        assert took <= TAKEOVER_WITHIN
        assert all(code == 0 for code in await fleet.stop())
    finally:
        await fleet.close()
        await api.close()
    for bot in fleet.bots:
        assert not lines_with(bot.log, tg.TOKEN)


async def check_campaign(db: Database, api: ApiProcess, customers: cp.Customers) -> None:
    invited = Counter(
        a.chat_id for a in api.arrivals if any(b.startswith("nps:") for b in a.buttons)
    )
    assert customers.total == UPDATES
    assert set(invited) == set(customers.chats)
    twice = sorted(chat for chat, n in invited.items() if n > 1)
    assert not twice, f"an invitation arrived twice: {_what_arrived(api, twice[:3])}"

    recorded = await cp.answers(db)
    expected = {(fid, kind) for fid in customers.followups.values() for kind in ("nps", "csat")}
    assert set(recorded) == expected
    assert set(recorded.values()) == {1}, "an answer was recorded twice"
    assert set((await cp.reasons(db)).values()) == {cp.REASON}

    handled = await cp.handled_at(db)
    for chat, ids in customers.posted.items():
        stamps = [handled[i] for i in ids]
        assert stamps == sorted(stamps), f"chat {chat}: updates handled out of order"
    queued_order = await cp.sent_texts(db)
    for chat in customers.chats:
        arrived = [a.text for a in api.by_chat[chat] if a.method == "sendMessage"]
        assert arrived == queued_order[chat], f"chat {chat}: messages out of order"

    most = busiest_second([a.at for a in api.arrivals])
    print(flush=True)
    print(f"{len(api.arrivals)} sends and edits, at most {most} in one second (limit {RATE})")
    assert most <= RATE


def _what_arrived(api: ApiProcess, chats: list[str]) -> dict[str, list[str]]:
    """What each of ``chats`` received, in order (to tell a repeat from a reprompt)."""
    return {
        chat: [f"{a.method} {a.text[:40]!r} {a.buttons[:1]}" for a in api.by_chat[chat]]
        for chat in chats
    }


async def check_metrics(db: Database, fleet: Fleet) -> None:
    pages = await fleet.scrape_all()
    handled, sent = await cp.counts(db)
    assert sum(p.get("postsale_updates_handled_total", 0.0) for p in pages) == handled == UPDATES
    assert sum(p.get("postsale_outbox_sent_total", 0.0) for p in pages) == sent
    assert all(p.get("postsale_updates_handled_total", 0.0) > 0 for p in pages), "a process idled"


async def kill_the_sender(db: Database, api: ApiProcess, fleet: Fleet, chats: list[str]) -> float:
    """SIGKILL the lease holder while replies wait; seconds until the next send arrives."""
    async with asyncio.timeout(180):
        holder = await fleet.sender()
        backlog = await cp.queue_replies(db, chats, BACKLOG)
        async with asyncio.timeout(60):  # the holder is sending them
            while sum(a.text.startswith(cp.BACKLOG) for a in api.arrivals) < RATE // 2:
                await api.refresh()
                await asyncio.sleep(0.05)
        await fleet.kill(holder)
        killed = time.monotonic()
        after: list[float] = []
        while not after and time.monotonic() - killed < 30:
            after = [a.at for a in await api.refresh() if a.at > killed]
            await asyncio.sleep(0.02)
        took = (after[0] if after else time.monotonic()) - killed
        # The survivors still take updates, and one of them now sends what is left.
        await fleet.post({"update_id": 999_999, **tg.message(int(chats[-1]), "/help")})
        await cp.until_drained(db, within=60)
        await api.refresh()
        assert await fleet.sender() != holder
    arrived = Counter(a.text for a in api.arrivals if a.text.startswith(cp.BACKLOG))
    assert set(arrived) == set(backlog), "a queued reply was lost in the takeover"
    twice = sum(n - 1 for n in arrived.values())
    assert twice <= SendLimits().concurrency, f"{twice} sent twice: more than the sends in flight"
    return took
