"""``postsale backup DEST`` as a real process: SQLite while a writer commits, PostgreSQL
through the real ``pg_dump``, DEST's refusals, and no password in sight."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from bot.app import Database
from tests.e2e.postsale_process import postsale

PAYLOAD = "x" * 200


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated postsale database of some megabytes (a copy that takes a while)."""
    path = tmp_path_factory.mktemp("template") / "postsale.db"

    async def _open() -> None:
        db = await Database.open(f"sqlite+aiosqlite:///{path}")
        await db.close()

    asyncio.run(_open())
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO kv (key, value) VALUES (?, ?)",
            ((f"bulk-{i}", PAYLOAD) for i in range(30_000)),
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture
def sqlite_url(template: Path, tmp_path: Path) -> str:
    shutil.copy(template, tmp_path / "postsale.db")
    return f"sqlite+aiosqlite:///{tmp_path / 'postsale.db'}"


class Writer(threading.Thread):
    """Commits one row at a time, as the bot does, until stopped; counts its commits."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.committed = 0
        self.stop = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        while not self.stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (f"w-{self.committed}", "v"))
            conn.execute("COMMIT")
            self.committed += 1
        conn.close()


def written_keys(path: Path) -> set[int]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute("SELECT key FROM kv WHERE key LIKE 'w-%'").fetchall()
        assert conn.execute("SELECT count(*) FROM kv WHERE key LIKE 'bulk-%'").fetchone() == (
            30_000,
        )
    finally:
        conn.close()
    return {int(key[2:]) for (key,) in rows}


def test_a_backup_while_a_writer_commits_holds_every_earlier_commit(
    tmp_path: Path, sqlite_url: str
) -> None:
    source = tmp_path / "postsale.db"
    writer = Writer(source)
    writer.start()
    while writer.committed < 50:
        time.sleep(0.01)
    before = writer.committed
    done = postsale("backup", str(tmp_path / "copy.db"), cwd=tmp_path, DATABASE_URL=sqlite_url)
    during = writer.committed - before
    writer.stop.set()
    writer.join()
    assert done.returncode == 0, done.stderr
    assert "integrity_check: ok" in done.stdout
    keys = written_keys(tmp_path / "copy.db")
    assert set(range(before)) <= keys  # every commit before the backup began
    assert keys == set(range(len(keys)))  # one moment's state: no commit without its elders
    assert during > 0  # the writer was not held up while the copy was made
    assert not list(tmp_path.glob(".copy.db.*"))  # no temporary file left
    assert not (tmp_path / "copy.db-wal").exists()


def test_dest_is_not_replaced_without_force(tmp_path: Path, sqlite_url: str) -> None:
    dest = tmp_path / "copy.db"
    dest.write_text("an older backup")
    refused = postsale("backup", str(dest), cwd=tmp_path, DATABASE_URL=sqlite_url)
    assert refused.returncode == 1
    assert "exists: pass --force" in refused.stderr
    assert dest.read_text() == "an older backup"
    forced = postsale("backup", str(dest), "--force", cwd=tmp_path, DATABASE_URL=sqlite_url)
    assert forced.returncode == 0, forced.stderr
    assert written_keys(dest) == set()


@pytest.mark.parametrize(
    ("dest", "said"),
    [
        ("missing/copy.db", "directory"),
        ("afile/copy.db", "directory"),
        ("adir", "is a directory"),
        ("postsale.db", "exists"),
    ],
)
def test_an_unusable_dest_is_refused_clearly(
    tmp_path: Path, sqlite_url: str, dest: str, said: str
) -> None:
    (tmp_path / "afile").write_text("")
    (tmp_path / "adir").mkdir()
    done = postsale("backup", str(tmp_path / dest), cwd=tmp_path, DATABASE_URL=sqlite_url)
    assert done.returncode == 1
    assert said in done.stderr and "Traceback" not in done.stderr
    assert "postsale: backup failed: " in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile", "postsale.db"]
    assert list((tmp_path / "adir").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in a read-only directory anyway")
def test_a_read_only_directory_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        done = postsale("backup", str(locked / "copy.db"), cwd=tmp_path, DATABASE_URL=sqlite_url)
    finally:
        locked.chmod(stat.S_IRWXU)
    assert done.returncode == 1
    assert "no permission" in done.stderr


def test_a_missing_sqlite_database_is_not_created(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nothing.db'}"
    done = postsale("backup", str(tmp_path / "copy.db"), cwd=tmp_path, DATABASE_URL=url)
    assert done.returncode == 1
    assert "no SQLite database at" in done.stderr
    assert not (tmp_path / "nothing.db").exists()
    assert not (tmp_path / "copy.db").exists()


PASSWORD = "Hunter2-pg-secret"
pg_tools = pytest.mark.skipif(
    shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
    reason="pg_dump and pg_restore (PostgreSQL's client tools) are not installed",
)


def with_password(url: str) -> str:
    """The test server trusts the connection: the password travels, and is ignored."""
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user.split(':')[0]}:{PASSWORD}@{host}"


def spying_pg_dump(bin_dir: Path) -> Path:
    """A ``pg_dump`` first on PATH that notes how it was called, then runs the real one."""
    real = shutil.which("pg_dump")
    bin_dir.mkdir()
    script = bin_dir / "pg_dump"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{bin_dir}/argv"\n'
        f'printf "%s" "$PGPASSWORD" > "{bin_dir}/password"\n'
        f'exec "{real}" "$@"\n'
    )
    script.chmod(0o755)
    return bin_dir


async def _pg(url: str, *sql: str) -> list[object]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"), timeout=3)
    try:
        return [await conn.fetchval(statement) for statement in sql]
    finally:
        await conn.close()


@pg_tools
@pytest.mark.postgres
def test_a_postgres_backup_restores_and_never_shows_the_password(
    tmp_path: Path, postgres_url: str
) -> None:
    asyncio.run(_pg(postgres_url, "INSERT INTO kv VALUES ('probe', 'kept') ON CONFLICT DO NOTHING"))
    spy = spying_pg_dump(tmp_path / "bin")
    dest = tmp_path / "postsale.dump"
    done = postsale(
        "backup",
        str(dest),
        cwd=tmp_path,
        DATABASE_URL=with_password(postgres_url),
        LOG_LEVEL="DEBUG",
        PATH=f"{spy}:{os.environ['PATH']}",
    )
    assert done.returncode == 0, done.stderr
    assert "pg_restore --list:" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    argv = (spy / "argv").read_text().splitlines()
    assert argv[0] == "-Fc" and PASSWORD not in "".join(argv)
    assert (spy / "password").read_text() == PASSWORD  # given through the environment
    assert dest.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    restored = postgres_url.rsplit("/", 1)[0] + "/" + "h_backup_restored"
    admin = postgres_url.rsplit("/", 1)[0] + "/postgres"
    asyncio.run(
        _pg(admin, "DROP DATABASE IF EXISTS h_backup_restored", "CREATE DATABASE h_backup_restored")
    )
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "-d", restored.replace("+asyncpg", ""), str(dest)],
            check=True,
            capture_output=True,
        )
        (value,) = asyncio.run(_pg(restored, "SELECT value FROM kv WHERE key = 'probe'"))
        assert value == "kept"
    finally:
        asyncio.run(_pg(admin, "DROP DATABASE IF EXISTS h_backup_restored WITH (FORCE)"))


@pg_tools
@pytest.mark.postgres
def test_a_failing_pg_dump_is_reported_without_the_password(
    tmp_path: Path, postgres_url: str
) -> None:
    missing = with_password(postgres_url).rsplit("/", 1)[0] + "/no_such_database_here"
    dest = tmp_path / "postsale.dump"
    done = postsale("backup", str(dest), cwd=tmp_path, DATABASE_URL=missing, LOG_LEVEL="DEBUG")
    assert done.returncode == 1
    assert "pg_dump failed:" in done.stderr and "no_such_database_here" in done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert not dest.exists() and not list(tmp_path.glob(".*.tmp"))


def test_without_pg_dump_the_error_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    url = f"postgresql+asyncpg://postsale:{PASSWORD}@127.0.0.1:5432/postsale"
    done = postsale(
        "backup",
        str(tmp_path / "x.dump"),
        cwd=tmp_path,
        DATABASE_URL=url,
        PATH=str(tmp_path / "empty"),
    )
    assert done.returncode == 1
    assert "pg_dump is not installed" in done.stderr
    assert PASSWORD not in done.stdout + done.stderr
