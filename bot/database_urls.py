"""Database URLs as settings read them: the async driver's scheme, a password hidden."""

from __future__ import annotations

import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# The schemes people paste, and the async driver each one means here.
_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}
_URL_FORMS = "sqlite+aiosqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB"


def database_url(value: str) -> str:
    """``value`` with its scheme made the async driver's; ``ValueError`` if unusable."""
    value = value.strip()
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(f"not a database URL (use {_URL_FORMS})") from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(f"unsupported database {url.drivername!r} (use {_URL_FORMS})")
    # Only the scheme changes: the rest (query options, quoting) stays as written.
    return driver + value[value.index("://") :]


def shown_url(value: str) -> str:
    """A database URL fit for a log or a message: any password replaced by ``***``."""
    try:
        parsed = make_url(value)
    except ArgumentError:
        return re.sub(r":[^:@/]*@", ":***@", value)
    # Re-rendered only when there is a password to hide: otherwise as it was written.
    return value if parsed.password is None else parsed.render_as_string(hide_password=True)
