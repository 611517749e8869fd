"""Start-up failures a person can act on, and the database line every command prints.

A wrong setting at start is answered in one line naming it and saying what to do,
not with a traceback; and a command says which database it uses, so that a cron
job run from the wrong directory (a new, empty ``postsale.db``) is seen at once.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.settings import shown_url


class StartupError(Exception):
    """Start-up cannot go on; the message is the whole answer (the CLI prints it)."""


def describe_database(url: str) -> str:
    """The URL without its password and, for an SQLite file, where that file is."""
    shown = shown_url(url)
    parsed = make_url(url)
    path = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or path in ("", ":memory:"):
        return shown
    if path.startswith("file:"):  # an SQLite URI (``?uri=true``): its options decide
        return shown
    file = Path(path).resolve()
    if file.exists():
        return f"{shown} ({file})"
    return f"{shown} ({file}: not there yet, a new empty database will be created)"


def database_error(url: str, exc: BaseException) -> StartupError:
    """``exc``, raised opening the database at ``url``, as one actionable line."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    if make_url(url).get_backend_name() == "sqlite":
        hint = "check the file's path, and that this user may write to it and to its directory"
    else:
        hint = "check the host, the database name, the credentials and that the server runs"
    return StartupError(
        f"DATABASE_URL {shown_url(url)}: cannot open the database ({reason}): {hint}"
    )


OPEN_ERRORS = (SQLAlchemyError, OSError)
