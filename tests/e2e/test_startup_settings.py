"""Start-up as a person meets it: pasted settings, the database in use, a bad id.

Each test runs a real ``postsale`` process; a mistake gets one line naming the
setting (no traceback) and a non-zero exit.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.postsale_process import postsale


def error_lines(stderr: str) -> list[str]:
    """What the process said on stderr, the database line left out."""
    return [line for line in stderr.splitlines() if not line.startswith("postsale: database ")]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "nonsense"),
        ("DATABASE_URL", "mysql://shop@db.example/shop"),
        ("LOG_LEVEL", "verbose"),
        ("OPERATOR_IDS", "12, abc"),
        ("ADMIN_IDS", "@maria"),
    ],
)
def test_a_bad_setting_is_answered_naming_it_without_a_traceback(
    name: str, value: str, tmp_path: Path
) -> None:
    done = postsale("migrate", cwd=tmp_path, **{name: value})
    assert done.returncode == 2
    assert f"{name}:" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "postsale.db").exists()


def test_a_sqlite_url_as_people_write_it_is_used_with_aiosqlite(tmp_path: Path) -> None:
    done = postsale("migrate", cwd=tmp_path, DATABASE_URL="sqlite:///x.db")
    assert done.returncode == 0, done.stderr
    tables = sqlite3.connect(tmp_path / "x.db").execute("select name from sqlite_master")
    assert ("operators",) in tables.fetchall()


@pytest.mark.postgres
def test_a_pasted_postgresql_url_works_and_its_password_is_not_printed(
    postgres_url: str, tmp_path: Path
) -> None:
    # The test server trusts loopback: the password is taken and not checked.
    pasted = postgres_url.replace("postgresql+asyncpg://postgres@", "postgres://postgres:s3cr3t@")
    assert pasted.startswith("postgres://")
    done = postsale("operators", "list", cwd=tmp_path, DATABASE_URL=pasted)
    assert done.returncode == 0, done.stderr
    assert "postsale: database postgresql+asyncpg://postgres:***@127.0.0.1" in done.stderr
    assert "s3cr3t" not in done.stdout + done.stderr


@pytest.mark.parametrize("command", [["kpi"], ["conversations", "list"]])
def test_a_command_run_elsewhere_says_it_makes_a_new_database_there(
    command: list[str], tmp_path: Path
) -> None:
    elsewhere = tmp_path / "cron-home"
    elsewhere.mkdir()
    done = postsale(*command, cwd=elsewhere)
    new_file = elsewhere / "postsale.db"
    assert f"postsale: database sqlite+aiosqlite:///postsale.db ({new_file}: not there yet" in (
        done.stderr
    )
    again = postsale(*command, cwd=elsewhere)
    assert f"postsale: database sqlite+aiosqlite:///postsale.db ({new_file})\n" in again.stderr


def test_the_database_line_names_the_one_the_dot_env_file_chose(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'shop.db'}\n")
    postsale("migrate", cwd=tmp_path)
    done = postsale("kpi", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    line = f"postsale: database sqlite+aiosqlite:///{tmp_path / 'shop.db'} ({tmp_path / 'shop.db'})"
    assert done.stderr.splitlines()[0] == line


@pytest.mark.parametrize(
    "where",
    [
        pytest.param("file:{dir}/shop.db?mode=ro&uri=true", id="read-only"),
        pytest.param("{dir}/no-such-dir/shop.db", id="missing-directory"),
    ],
)
@pytest.mark.parametrize("command", ["migrate", "run"])
def test_a_database_that_cannot_be_written_at_start_is_one_line_naming_database_url(
    where: str, command: str, tmp_path: Path
) -> None:
    sqlite3.connect(tmp_path / "shop.db").close()  # there, empty, opened read-only
    url = "sqlite+aiosqlite:///" + where.format(dir=tmp_path)
    done = postsale(command, cwd=tmp_path, DATABASE_URL=url, BOT_TOKEN="123:x")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    [line] = error_lines(done.stderr)
    assert line.startswith(f"postsale: DATABASE_URL {url}: cannot open the database (")
    assert "unable to open database file" in line or "readonly database" in line


def test_a_username_is_refused_as_an_operator_and_nothing_is_stored(tmp_path: Path) -> None:
    done = postsale("operators", "add", "@maria", cwd=tmp_path)
    assert done.returncode == 2
    assert "not a Telegram user id: '@maria'" in done.stderr
    listed = postsale("operators", "list", cwd=tmp_path)
    assert "@maria" not in listed.stdout
    assert postsale("operators", "add", "123456789", cwd=tmp_path).returncode == 0
