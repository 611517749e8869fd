"""Only operators run operator commands and only admins run admin ones: everybody else is
refused politely in their language, nothing changes, and every attempt is logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import Database
from bot.bootstrap import build_core
from bot.engine.pipeline import Pipeline
from bot.i18n import translate
from bot.operators.commands import BUTTONS as OP_BUTTONS
from bot.operators.commands import COMMANDS as TABLE
from flows.events import ButtonIn
from flows.staff import ADMINS_ONLY, REFUSAL
from tests.builders import Clock, customer_with_delivered_order
from tests.integration.staff_helpers import (
    ADMIN,
    OPERATOR,
    open_complaint,
    send,
    snapshot,
    staff_settings,
    texts,
)

OPERATOR_COMMANDS = [
    "/kpi",
    "/kpi 7d",
    "/tickets",
    "/tickets all 2",
    "/ticket {n}",
    "/reply {n} hello",
    "/reply",
    "/resolve {n}",
    "/reopen {n}",
    "/assign {n}",
    "/assign {n} 900",
    "/theme {n} late_delivery",
    "/web",
]
ADMIN_COMMANDS = ["/history c-1", "/operators", "/operators add 555 admin", "/operators remove 900"]
BUTTONS = ["op:t:{n}", "op:res:{n}", "op:asg:{n}", "op:reo:{n}", "op:tl:all:1", "op:kpi:30d"]


async def attempts(
    db: Database, engine: Pipeline, user: str, items: list[str], n: int, **where: str
) -> list[str]:
    answers = []
    for item in items:
        event = ButtonIn(item.format(n=n)) if item.startswith("op:") else item.format(n=n)
        answers.append(texts(await send(db, engine, user, event, **where)))
    return answers


@pytest.mark.parametrize(
    ("who", "language", "expected"),
    [("customer", "pt-BR", "pt-BR"), ("stranger", "es", "es")],
)
async def test_customers_and_strangers_are_refused_every_staff_command(
    db: Database,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    who: str,
    language: str,
    expected: str,
) -> None:
    engine = build_core(db, staff_settings(tmp_path), Clock()).pipeline
    await customer_with_delivered_order(db, locale="pt-BR" if who == "customer" else None)
    n = await open_complaint(db, engine)
    user = "100" if who == "customer" else "555"
    before = await snapshot(db)
    caplog.set_level(logging.WARNING, logger="postsale.operators")

    everything = OPERATOR_COMMANDS + ADMIN_COMMANDS + BUTTONS
    answers = await attempts(db, engine, user, everything, n, language_code=language)

    assert answers == [translate(REFUSAL, expected)] * len(everything)
    assert translate(REFUSAL, expected) != REFUSAL  # really in their language
    assert await snapshot(db) == before
    refusals = [r.getMessage() for r in caplog.records if r.name == "postsale.operators"]
    assert len(refusals) == len(everything)
    assert all(f"user {user}" in line for line in refusals)
    assert any("refused kpi" in line for line in refusals)
    assert any("refused history" in line for line in refusals)


async def test_an_operator_is_refused_the_admin_commands(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = build_core(db, staff_settings(tmp_path), Clock()).pipeline
    await customer_with_delivered_order(db)
    n = await open_complaint(db, engine)
    before = await snapshot(db)
    caplog.set_level(logging.WARNING, logger="postsale.operators")

    answers = await attempts(db, engine, OPERATOR, ADMIN_COMMANDS, n)

    assert answers == [translate(ADMINS_ONLY, "en")] * len(ADMIN_COMMANDS)
    assert await snapshot(db) == before
    logged = [r.getMessage() for r in caplog.records if r.name == "postsale.operators"]
    assert len(logged) == len(ADMIN_COMMANDS)
    assert all(f"user {OPERATOR}" in line and "needs admin" in line for line in logged)
    # The admin may: the same command works for them.
    assert "Transcript of" in texts(await send(db, engine, ADMIN, "/history c-1"))


async def test_in_the_operators_group_only_operators_are_served(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = staff_settings(tmp_path, operator_chat_id="-500")
    engine = build_core(db, settings, Clock()).pipeline
    await customer_with_delivered_order(db)
    n = await open_complaint(db, engine)
    before = await snapshot(db)
    caplog.set_level(logging.WARNING, logger="postsale.operators")
    group = {"chat_id": "-500", "chat_type": "supergroup"}

    refused = await send(db, engine, "555", f"/resolve {n}", **group)
    assert texts(refused) == translate(REFUSAL, "en")
    assert await snapshot(db) == before
    assert len(caplog.records) == 1

    served = await send(db, engine, OPERATOR, "/tickets", **group)
    assert f"#{n}" in texts(served)
    # Another group is not served at all, operator or not.
    assert await send(db, engine, OPERATOR, "/tickets", chat_id="-777", chat_type="group") == []


async def test_a_role_removed_from_the_table_stops_working_at_once(
    db: Database, tmp_path: Path
) -> None:
    engine = build_core(db, staff_settings(tmp_path), Clock()).pipeline
    assert "is now an operator" in texts(await send(db, engine, ADMIN, "/operators add 321 Bia"))
    assert texts(await send(db, engine, "321", "/tickets all")) == "No tickets yet."
    listed = texts(await send(db, engine, ADMIN, "/operators list"))
    assert "321 operator Bia (table)" in listed and f"{ADMIN} admin" in listed
    assert "was removed" in texts(await send(db, engine, ADMIN, "/operators remove 321"))
    assert texts(await send(db, engine, "321", "/tickets")) == translate(REFUSAL, "en")


def _name(item: str) -> str:
    return item.split(":")[1] if item.startswith("op:") else item[1:].split(" ")[0]


def test_the_refusal_tests_try_every_command_and_button_of_the_table() -> None:
    assert {_name(c) for c in OPERATOR_COMMANDS} == {
        n for n, c in TABLE.items() if c.role == "operator"
    }
    assert {_name(c) for c in ADMIN_COMMANDS} == {n for n, c in TABLE.items() if c.role == "admin"}
    assert {_name(b) for b in BUTTONS} == set(OP_BUTTONS)


async def test_every_command_and_button_of_the_table_reaches_its_handler(
    db: Database, tmp_path: Path
) -> None:
    engine, n = await _admin_and_a_ticket(db, tmp_path)
    unknown = "I don't know that command"
    for item in [f"/{name} {n}" for name in TABLE] + BUTTONS:
        answer = texts(await send(db, engine, ADMIN, _event(item.format(n=n))))
        assert answer and unknown not in answer and "no longer valid" not in answer, item
        assert translate(REFUSAL, "en") not in answer and translate(ADMINS_ONLY, "en") not in answer


async def _admin_and_a_ticket(db: Database, tmp_path: Path) -> tuple[Pipeline, int]:
    engine = build_core(db, staff_settings(tmp_path), Clock()).pipeline
    await customer_with_delivered_order(db)
    return engine, await open_complaint(db, engine)


def _event(item: str) -> ButtonIn | str:
    return ButtonIn(item) if item.startswith("op:") else item
