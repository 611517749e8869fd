"""Which failures are the infrastructure's (the database, the disk) rather than the update's.

An update that fails because the database is unreachable, full or shutting down
will succeed later, unchanged: it is held and tried again, never given up. Anything
else (a bug meeting odd input, bad data) fails again the same way: after a few
tries the update is given up on and kept as a dead update.
"""

from __future__ import annotations

from sqlalchemy import exc as sa

# PostgreSQL SQLSTATE classes of an outage: connection exception (08), insufficient
# resources (53: disk full, out of memory, too many connections), operator
# intervention (57: shutdown, cannot connect now), system error (58: I/O error).
_OUTAGE_SQLSTATE = ("08", "53", "57", "58")
# SQLite's primary result codes of an outage: busy and locked (past the busy timeout),
# out of memory, read-only, I/O error, disk full, cannot open, locking protocol. Its
# OperationalError also covers a missing table or a syntax error: the update's own.
_OUTAGE_SQLITE = {5, 6, 7, 8, 10, 13, 14, 15}
_OUTAGE_ERRORS = (
    sa.OperationalError,
    sa.InterfaceError,  # the driver lost its connection
    sa.DisconnectionError,
    sa.TimeoutError,  # no pooled connection came free
    OSError,  # refused, reset, no space left on the device
    TimeoutError,
)


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and what caused it, outermost first."""
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in found):
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def is_infrastructure(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the database or the disk is failing."""
    chain = _chain(error)
    for current in chain:
        code = getattr(current, "sqlite_errorcode", None)
        if isinstance(code, int):  # SQLite says exactly what went wrong
            return code & 0xFF in _OUTAGE_SQLITE
    for current in chain:
        if isinstance(current, _OUTAGE_ERRORS):
            return True
        if isinstance(current, sa.DBAPIError) and current.connection_invalidated:
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_OUTAGE_SQLSTATE):
            return True
    return False
