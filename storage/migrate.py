"""Bring the database schema up to date with Alembic, from inside the app."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions (a test checks it is Alembic's head). A
# database already there is not handed to Alembic at start-up: importing it and reading
# its scripts costs a running bot ~17 MB (alembic, mako, pygments) for nothing to do.
HEAD = "0012_web_search"


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at (None: never migrated, or more than one head)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return found[0] if len(found) == 1 else None


def _upgrade(conn: Connection) -> None:
    if current_revision(conn) == HEAD:
        return
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Run every pending migration on ``engine`` (safe to call at each start)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
