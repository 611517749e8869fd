"""JSON log lines: one object a line, the update's fields, every secret masked."""

from __future__ import annotations

import io
import json
import logging
from urllib.parse import quote

from bot.log_format import JsonFormatter
from bot.log_secrets import RedactSecrets, secrets_of
from bot.metrics import Metrics, about
from bot.settings import Settings

TOKEN = "123456:AAH-secret-half_of/the+token"
DB_PASSWORD = "p@ss:word/42"


def json_logger() -> tuple[logging.Logger, io.StringIO]:
    """A logger of its own, set up as ``configure_logging`` sets up the root's handlers."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token=TOKEN,
        database_url=f"postgresql+asyncpg://bot:{quote(DB_PASSWORD, safe='')}@db/postsale",
        log_format="json",
    )
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    redactor = RedactSecrets(secrets_of(settings))
    handler.addFilter(redactor)
    handler.setFormatter(JsonFormatter(redactor.redact))
    logger = logging.getLogger("postsale.test_json")
    logger.handlers, logger.propagate, logger.level = [handler], False, logging.DEBUG
    return logger, out


def test_secrets_logged_on_purpose_are_masked_in_every_json_field() -> None:
    logger, out = json_logger()
    logger.info("the token is %s", TOKEN)
    logger.info("url https://api.telegram.org/bot%s/getMe", quote(TOKEN, safe=""))
    logger.warning("half %s and password %s", TOKEN.partition(":")[2], DB_PASSWORD)
    logger.info("extra", extra={"duration_ms": TOKEN})
    try:
        raise RuntimeError(f"failed with {TOKEN}")
    except RuntimeError:
        logger.exception("it failed")
    text = out.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 5
    assert lines[0]["message"] == "the token is ***"
    assert "RuntimeError: failed with ***" in lines[4]["exception"]
    for secret in (TOKEN, TOKEN.partition(":")[2], quote(TOKEN, safe=""), DB_PASSWORD):
        assert secret not in text


def test_lines_about_an_update_carry_its_id_chat_and_duration() -> None:
    logger, out = json_logger()
    engine = logging.getLogger("postsale.engine")
    saved = (engine.handlers, engine.propagate, engine.level)
    engine.handlers, engine.propagate, engine.level = logger.handlers, False, logging.DEBUG
    try:
        metrics = Metrics()
        with metrics.timing("telegram", "42", "777"), about("telegram", "42", "777"):
            logger.info("survey started")
        logger.info("not about an update")
    finally:
        engine.handlers, engine.propagate, engine.level = saved
    inside, timed, outside = (json.loads(line) for line in out.getvalue().splitlines())
    assert (inside["channel"], inside["update_id"], inside["chat"]) == ("telegram", "42", "777")
    assert timed["duration_ms"] >= 0 and "update telegram:42 of chat 777" in timed["message"]
    assert "update_id" not in outside and "chat" not in outside
    assert metrics.update_seconds.labels("telegram")._sum.get() > 0  # type: ignore[attr-defined]
