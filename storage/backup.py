"""A backup of the database into one file, taken while the bot may be writing.

SQLite: the sqlite3 backup API copies the file in a single step, inside one read
transaction, so the copy is the database as of one commit (WAL lets the bot's writer go
on meanwhile); the copy is checked with ``PRAGMA integrity_check`` before it takes
DEST's name. PostgreSQL: ``pg_dump -Fc``, the password given through ``PGPASSWORD`` in
its environment (never its command line, which ``ps`` shows), and the dump read back
with ``pg_restore --list`` when that is installed. Either way the file is written beside
DEST under a temporary name and renamed onto DEST at the end: DEST is never a half-copy.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

# libpq's environment variables for each part of the URL pg_dump needs.
_PG_ENV = {"host": "PGHOST", "port": "PGPORT", "username": "PGUSER", "database": "PGDATABASE"}
# asyncpg's spelling of TLS in a URL query, and libpq's.
_SSL_QUERY = ("ssl", "sslmode")


class BackupError(Exception):
    """Why no backup was written (DEST is left as it was)."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    check: str  # what the copy was checked with, and what it said


def backup(database_url: str, dest: Path, *, force: bool = False) -> Backup:
    """Write the database at ``database_url`` to ``dest``; ``BackupError`` if not."""
    url = make_url(database_url)
    dest = check_dest(dest, force=force)
    if url.get_backend_name() == "sqlite":
        return _sqlite_backup(url, dest, force=force)
    if url.get_backend_name() == "postgresql":
        return _pg_backup(url, dest, force=force)
    raise BackupError(f"no backup for a {url.get_backend_name()} database")


def check_dest(dest: Path, *, force: bool) -> Path:
    """``dest`` made absolute, once it is known a file can be written there."""
    dest = dest.expanduser().absolute()
    if dest.is_dir():
        raise BackupError(f"{dest} is a directory: give the backup file's name")
    if dest.exists() and not force:
        raise BackupError(f"{dest} exists: pass --force to replace it")
    parent = dest.parent
    if not parent.is_dir():
        raise BackupError(f"cannot write {dest}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BackupError(f"cannot write {dest}: no permission to write in {parent}")
    return dest


@contextlib.contextmanager
def _temporary_beside(dest: Path) -> Iterator[Path]:
    """A new empty file in DEST's directory (so the rename is atomic), removed unless kept."""
    try:
        fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    except OSError as exc:
        raise BackupError(f"cannot write in {dest.parent}: {exc.strerror}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            leftover.unlink(missing_ok=True)


def _put_in_place(tmp: Path, dest: Path, *, force: bool) -> int:
    """Flush ``tmp`` to disk and rename it to ``dest``; its size."""
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    if dest.exists() and not force:  # appeared while the copy was being made
        raise BackupError(f"{dest} exists: pass --force to replace it")
    try:
        os.replace(tmp, dest)
    except OSError as exc:
        raise BackupError(f"cannot write {dest}: {exc.strerror}") from None
    with contextlib.suppress(OSError):  # the rename itself durable, where the OS allows
        dir_fd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return dest.stat().st_size


def _sqlite_backup(url: URL, dest: Path, *, force: bool) -> Backup:
    if not url.database or url.database == ":memory:":
        raise BackupError("DATABASE_URL is an in-memory SQLite database: nothing to back up")
    source = Path(url.database).expanduser().absolute()
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    if source == dest:
        raise BackupError(f"{dest} is the database itself")
    with _temporary_beside(dest) as tmp:
        _sqlite_copy(source, tmp)
        size = _put_in_place(tmp, dest, force=force)
    return Backup(dest, size, "PRAGMA integrity_check: ok")


def _sqlite_copy(source: Path, tmp: Path) -> None:
    # mode=rw: a missing file is an error, not a new empty database.
    try:
        src = sqlite3.connect(f"{source.as_uri()}?mode=rw", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {source}: {exc}") from None
    try:
        out = sqlite3.connect(tmp)
        try:
            # pages=-1: one step, one read transaction, so a commit meanwhile cannot
            # restart the copy (as it would between steps of a stepped backup).
            src.backup(out, pages=-1)
            # One self-contained file: no -wal beside it to forget when it is moved.
            out.execute("PRAGMA journal_mode=DELETE")
            found = [row[0] for row in out.execute("PRAGMA integrity_check")]
        finally:
            out.close()
    except sqlite3.Error as exc:
        raise BackupError(f"the copy of {source} failed: {exc}") from None
    finally:
        src.close()
    if found != ["ok"]:
        raise BackupError(f"the copy failed its integrity check: {'; '.join(found[:5])}")


def pg_environment(url: URL) -> dict[str, str]:
    """libpq's variables for ``url``: pg_dump's command line then needs none of it."""
    env = dict(os.environ)  # PGSSLROOTCERT and the like still apply
    for part, name in _PG_ENV.items():
        value = getattr(url, part)
        if value:
            env[name] = str(value)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    for key in _SSL_QUERY:
        mode = url.query.get(key)
        if isinstance(mode, str) and mode:
            env["PGSSLMODE"] = {"true": "require", "false": "disable"}.get(mode, mode)
    return env


def _pg_backup(url: URL, dest: Path, *, force: bool) -> Backup:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(
            "pg_dump is not installed (or not on PATH): install PostgreSQL's client "
            "tools (Debian/Ubuntu: apt install postgresql-client), the same major "
            "version as the server or newer"
        )
    env = pg_environment(url)
    secret = str(url.password or "")
    with _temporary_beside(dest) as tmp:
        _run([pg_dump, "-Fc", "--no-password", "-f", str(tmp)], env, secret, "pg_dump")
        check = "pg_dump exited 0"
        pg_restore = shutil.which("pg_restore")
        if pg_restore is not None:
            listed = _run([pg_restore, "--list", str(tmp)], env, secret, "pg_restore --list")
            entries = sum(1 for line in listed.splitlines() if line and line[0] != ";")
            check = f"pg_restore --list: {entries} entries"
        size = _put_in_place(tmp, dest, force=force)
    return Backup(dest, size, check)


def _run(argv: list[str], env: dict[str, str], secret: str, name: str) -> str:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=None)
    except OSError as exc:
        raise BackupError(f"{name} could not run: {exc.strerror}") from None
    if done.returncode != 0:
        said = done.stderr.strip() or f"exit status {done.returncode}"
        if secret:  # libpq does not echo it, but a message is no place to trust that
            said = said.replace(secret, "***")
        raise BackupError(f"{name} failed: {said}")
    return done.stdout
