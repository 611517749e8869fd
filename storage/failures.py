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
_OUTAGE_ERRORS = (
    sa.OperationalError,  # SQLite: unable to open, disk full, locked past the busy timeout
    sa.InterfaceError,  # the driver lost its connection
    sa.DisconnectionError,
    sa.TimeoutError,  # no pooled connection came free
    OSError,  # refused, reset, no space left on the device
    TimeoutError,
)


def is_infrastructure(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the database or the disk is failing."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _OUTAGE_ERRORS):
            return True
        if isinstance(current, sa.DBAPIError) and current.connection_invalidated:
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_OUTAGE_SQLSTATE):
            return True
        current = current.__cause__ or current.__context__
    return False
