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
