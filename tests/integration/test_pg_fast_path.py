"""PostgreSQL's fast path: a transaction's prepared statements run straight on asyncpg.

They must stay inside SQLAlchemy's transaction (rolled back with it, seen by its
later reads), store what SQLAlchemy would store, and fail as SQLAlchemy fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, exc, select

from bot.app import Database
from bot.bootstrap import build_core
from bot.settings import Settings
from flows.events import ButtonIn, TextIn
from storage import conversations as convs
from storage.models import Conversation, FollowUp, Message, OutboxMessage, SurveyResponse
from storage.outbox import enqueue
from storage.outbox_body import OutboxBody
from storage.sqlite.buffers import PostgresBuffer, combined
from storage.sqlite.transaction import fast_path
from tests.builders import T0, Clock, customer_with_delivered_order, incoming
from tests.integration.conftest import pool_of

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[Database]:
    async with pool_of(postgres_url) as database:
        yield database


async def _through_sqlalchemy(db: Database) -> list[str]:
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement.split()[0])

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    return seen


async def test_prepared_statements_go_to_asyncpg_inside_the_transaction(
    pg: Database,
) -> None:
    seen = await _through_sqlalchemy(pg)
    async with pg.uow(small=True) as uow:
        assert await (await fast_path(uow.session)).direct_postgres() is not None
        assert await convs.mark_handled(uow.session, "telegram", "fp-1", T0)
        chat = await convs.load_chat(uow.session, "telegram", "fp-chat", T0)
        await convs.save_state(uow.session, chat.conversation, "survey", "nps", {"k": [1]}, T0)
        again = await convs.load_chat(uow.session, "telegram", "fp-chat", T0)
        # Its own writes are seen, JSON as SQLAlchemy stores it.
        assert (again.conversation.state, again.conversation.data) == ("nps", {"k": [1]})
        # A duplicate counts as a duplicate (asyncpg's status gives the row count).
        assert not await convs.mark_handled(uow.session, "telegram", "fp-1", T0)
        # Rolled back with the transaction: nothing of it stays.
    assert seen == []  # none through SQLAlchemy: its adapter sent the BEGIN, asyncpg the rest
    async with pg.reader() as uow:
        found = await uow.session.scalars(
            select(Conversation.id).where(Conversation.chat_id == "fp-chat")
        )
        assert list(found) == []
        assert await convs.mark_handled(uow.session, "telegram", "fp-1", T0)
        await uow.rollback()


async def test_a_failing_direct_statement_fails_as_sqlalchemy_would(pg: Database) -> None:
    async with pg.uow(small=True) as uow:
        chat = await convs.load_chat(uow.session, "telegram", "fp-bad", T0)
        await uow.commit()
    with pytest.raises(exc.IntegrityError) as raised:
        async with pg.uow(small=True) as uow:
            await convs.mark_handled(uow.session, "telegram", "fp-2", T0)
            # A conversation of a customer that does not exist: a foreign key violation.
            await convs.set_conversation_customer(uow.session, chat.conversation, 10**9)
            await uow.commit()
    assert getattr(raised.value.orig, "sqlstate", None) == "23503"
    async with pg.reader() as uow:  # the failed transaction left nothing
        assert await convs.mark_handled(uow.session, "telegram", "fp-2", T0)
        await uow.rollback()


async def test_an_updates_writes_go_out_together_in_order(pg: Database) -> None:
    async with pg.uow(small=True) as uow:
        session = uow.session
        chat = await convs.load_chat(session, "telegram", "fp-many", T0)
        conv = chat.conversation
        for text in ("first", "second", "third"):
            await convs.record_incoming(session, conv, None, text, {"n": text}, T0)
        for text in ("reply one", "reply two"):
            await enqueue(
                session,
                channel="telegram",
                chat_id="fp-many",
                body=OutboxBody(text),
                purpose="reply",
                now=T0,
            )
        await convs.save_state(session, conv, "survey", "nps", {"asked": True}, T0)
        buffer = (await fast_path(session)).buffer
        assert isinstance(buffer, PostgresBuffer)
        # The three statements' rows in one statement: one round trip before the COMMIT.
        assert combined(buffer.pending, session.get_bind().dialect) is not None
        await uow.commit()
    async with pg.reader() as uow:
        lines = await uow.session.execute(
            select(Message.text, Message.payload).order_by(Message.id)
        )
        assert [tuple(r) for r in lines if r.text in ("first", "second", "third")] == [
            ("first", {"n": "first"}),
            ("second", {"n": "second"}),
            ("third", {"n": "third"}),
        ]
        sent = await uow.session.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.chat_id == "fp-many")
            .order_by(OutboxMessage.id)
        )
        assert [OutboxBody.from_json(b).text for b in sent] == ["reply one", "reply two"]
        again = await convs.load_chat(uow.session, "telegram", "fp-many", T0)
        assert (again.conversation.state, again.conversation.data) == ("nps", {"asked": True})
        await uow.rollback()


async def _write_update(db: Database, chat_id: str, lines: list[str], state: str) -> None:
    """One update's buffered writes: transcript lines, a reply, the new state."""
    async with db.uow(small=True) as uow:
        session = uow.session
        conv = (await convs.load_chat(session, "telegram", chat_id, T0)).conversation
        for text in lines:
            await convs.record_incoming(session, conv, None, text, {"n": text}, T0)
        await enqueue(
            session,
            channel="telegram",
            chat_id=chat_id,
            body=OutboxBody(f"reply to {lines[-1]}"),
            purpose="reply",
            now=T0,
        )
        await convs.save_state(session, conv, "survey", state, {"last": lines[-1]}, T0)
        buffer = (await fast_path(session)).buffer
        assert isinstance(buffer, PostgresBuffer)
        assert combined(buffer.pending, session.get_bind().dialect) is not None
        await uow.commit()


async def test_updates_of_one_shape_share_its_sql_but_write_their_own_rows(
    pg: Database,
) -> None:
    # The same shape twice (its SQL built once), then another shape, then the first again.
    updates = [
        ("fp-a", ["a1", "a2"], "nps"),
        ("fp-b", ["b1", "b2"], "reason"),
        ("fp-c", ["c1", "c2", "c3"], "csat"),
        ("fp-a", ["a3", "a4"], "done"),
    ]
    for chat_id, lines, state in updates:
        await _write_update(pg, chat_id, lines, state)
    async with pg.reader() as uow:
        rows = await uow.session.execute(
            select(Message.chat_id, Message.text, Message.payload)
            .where(Message.chat_id.in_(["fp-a", "fp-b", "fp-c"]))
            .order_by(Message.id)
        )
        assert [tuple(r) for r in rows] == [
            (chat_id, text, {"n": text}) for chat_id, lines, _ in updates for text in lines
        ]
        sent = await uow.session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.body)
            .where(OutboxMessage.chat_id.in_(["fp-a", "fp-b", "fp-c"]))
            .order_by(OutboxMessage.id)
        )
        assert [(c, OutboxBody.from_json(b).text) for c, b in sent] == [
            (chat_id, f"reply to {lines[-1]}") for chat_id, lines, _ in updates
        ]
        for chat_id, state, last in (("fp-a", "done", "a4"), ("fp-b", "reason", "b2")):
            chat = await convs.load_chat(uow.session, "telegram", chat_id, T0)
            assert (chat.conversation.state, chat.conversation.data) == (state, {"last": last})
        await uow.rollback()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_a_csat_press_writes_its_follow_up_once_with_the_rest(db: Database) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    engine = build_core(db, settings, Clock(), operator_commands=False).pipeline
    _, _, fid = await customer_with_delivered_order(db)
    assert fid is not None
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, fid)
        assert followup is not None
        assert await engine.messenger.start_survey(uow.session, followup, engine.clock())
        await uow.commit()
    await engine.handle(incoming(ButtonIn(f"nps:{fid}:9")))
    await engine.handle(incoming(TextIn("fast delivery")))

    sent: list[str] = []  # every statement asyncpg sends from here on, as it sends it
    event.listen(
        db.engine.sync_engine,
        "checkout",
        lambda conn, *_: conn.driver_connection.add_query_logger(lambda q: sent.append(q.query)),
    )
    await engine.handle(incoming(ButtonIn(f"csat:{fid}:4")))

    # Scored and completed in one press: the follow-up is marked answered once, in the
    # one statement that writes the update's rows before the COMMIT.
    touching = [q for q in sent if "UPDATE followups" in q]
    assert len(touching) == 1 and touching[0].startswith("WITH w0 AS")
    async with db.reader() as uow:
        followup = await uow.session.get(FollowUp, fid)
        assert followup is not None and followup.status == "answered"
        kinds = await uow.session.scalars(select(SurveyResponse.kind).order_by(SurveyResponse.id))
        assert list(kinds) == ["nps", "csat"]
