"""What ``postsale run`` loads at start: no library it does not use yet (benchmarks/memory.py).

Each check runs in a fresh interpreter, since this test process has imported
everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.app import Database
from bot.entrypoints.http.wanted import http_server_wanted
from bot.settings import Settings
from storage.migrate import HEAD, alembic_config

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> dict[str, object]:
    """The JSON object that ``code`` prints last, run by a new interpreter in the repo."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


LATER = ("matplotlib", "alembic", "mako", "jinja2", "aiogram", "telegram", "sklearn", "numpy")


def test_importing_the_runner_leaves_charts_migrations_and_both_libraries_for_later() -> None:
    loaded = run_python(
        "import json, sys\nimport bot.entrypoints.runner\n"
        f"print(json.dumps({{m: m in sys.modules for m in {LATER!r}}}))"
    )
    assert loaded == dict.fromkeys(LATER, False)


def test_tagging_a_reason_with_the_shipped_model_needs_no_numpy() -> None:
    # numpy is 17 MB of a running bot (bot.themes.model); only training and saving use it.
    found = run_python(
        "import json, sys\nfrom bot.themes import default_model\n"
        "tag = default_model().tag('o pedido chegou atrasado demais')\n"
        "print(json.dumps({'tag': tag, 'numpy': 'numpy' in sys.modules}))"
    )
    assert found == {"tag": "late_delivery", "numpy": False}


def test_head_is_alembics_newest_revision() -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD]


async def test_a_database_at_the_head_opens_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    db = await Database.open(url)  # a new file: migrated by Alembic
    await db.close()
    loaded = run_python(
        "import asyncio, json, sys\nfrom bot.app import Database\n"
        "async def main():\n"
        f"    db = await Database.open({url!r})\n"
        "    await db.close()\n"
        "asyncio.run(main())\n"
        "print(json.dumps({'alembic': 'alembic' in sys.modules}))"
    )
    assert loaded == {"alembic": False}


AIOGRAM_CHECK = """
import json
from bot.channels.telegram.aiogram_import import import_aiogram
import_aiogram()
from aiogram.methods.base import Response
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from bot.channels.telegram.aiogram_channel import AiogramChannel
deferred = type(Message.__dict__["__pydantic_validator__"]).__name__
chat = {"id": 5, "type": "private"}
update = Update.model_validate({"update_id": 1, "message": {
    "message_id": 2, "date": 0, "chat": chat, "text": "hi",
    "reply_to_message": {"message_id": 1, "date": 0, "chat": chat, "text": "before"}}})
press = Update.model_validate({"update_id": 2, "callback_query": {
    "id": "q", "from": {"id": 5, "is_bot": False, "first_name": "A"}, "chat_instance": "i",
    "data": "nps:1:8", "message": {"message_id": 2, "date": 0, "chat": chat}}})
sent = Response[Message].model_validate({"ok": True, "result": {
    "message_id": 3, "date": 0, "chat": chat, "text": "ok"}})
button = InlineKeyboardButton(text="1", callback_data="x")
keyboard = InlineKeyboardMarkup(inline_keyboard=[[button]])
print(json.dumps({
    "deferred": deferred,
    "reply_to": update.message.reply_to_message.text,
    "press": [press.callback_query.data, press.callback_query.from_user.id],
    "sent": [sent.result.message_id, sent.result.chat.id],
    "keyboard": keyboard.model_dump(exclude_none=True),
}))
"""


def test_aiogram_types_are_built_on_first_use_and_validate_as_before() -> None:
    found = run_python(AIOGRAM_CHECK)
    assert found == {
        "deferred": "MockValSer",  # not built at import: aiogram.types would build ~440
        "reply_to": "before",
        "press": ["nps:1:8", 5],
        "sent": [3, 5],
        "keyboard": {"inline_keyboard": [[{"text": "1", "callback_data": "x"}]]},
    }


RUNNING_CHECK = """
import asyncio, json, os, sys
from tests.fakes.bot_api import FakeBotApi

async def main():
    api = FakeBotApi()
    url = await api.start()
    os.environ.update(BOT_TOKEN="123:TEST", TELEGRAM_API_URL=url, DATA_DIR=DATA,
                      DATABASE_URL=DB, WEBHOOK_URL="", INGEST_SECRET="", WEB_SECRET="",
                      HTTP_SERVER="auto")
    from bot.entrypoints.runner import run_bot
    from bot.settings import load_settings
    stop = asyncio.Event()
    running = asyncio.create_task(run_bot(load_settings(_env_file=None), stop))
    await api.wait_until(lambda: any(c.method == "getUpdates" for c in api.calls), within=60)
    loaded = {m: m in sys.modules for m in LATER}
    stop.set()
    await running
    await api.close()
    print(json.dumps(loaded))

asyncio.run(main())
"""


async def test_a_polling_bot_runs_without_charts_migrations_the_web_admin_or_ptb(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    db = await Database.open(url)  # migrated here: the bot starts on a database at the head
    await db.close()
    where = f"DATA = {str(tmp_path)!r}\nDB = {url!r}\n"
    later = ("matplotlib", "alembic", "jinja2", "telegram", "sklearn", "numpy")
    loaded = run_python(where + f"LATER = {later!r}\n" + RUNNING_CHECK)
    assert loaded == dict.fromkeys(later, False)
    assert run_python(where + "LATER = ('aiogram',)\n" + RUNNING_CHECK) == {"aiogram": True}


def test_the_http_server_is_wanted_only_for_routes_ingestion_stores_admin_or_on() -> None:
    class Webhook:
        def routes(self) -> list[object]:
            return [object()]

    polling = Settings(_env_file=None, bot_token="1:T")
    assert not http_server_wanted(polling, {"telegram": object()})
    assert http_server_wanted(polling, {"telegram": Webhook()})
    for setting in ({"ingest_secret": "s"}, {"web_secret": "w" * 32}, {"http_server": "on"}):
        assert http_server_wanted(Settings(_env_file=None, **setting), {}), setting
