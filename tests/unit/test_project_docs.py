"""The repository's own documents: what README points to exists and docs/ covers the interface."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.entrypoints.cli import COMMANDS
from bot.operators.commands import COMMANDS as OPERATOR_COMMANDS
from bot.settings import Settings
from flows.registry import COMMANDS as CUSTOMER_COMMANDS

ROOT = Path(__file__).resolve().parents[2]
INTERFACE = ROOT / "docs" / "interface.md"


def in_a_git_checkout() -> bool:
    if shutil.which("git") is None:
        return False
    found = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() == "true"


@pytest.mark.skipif(not in_a_git_checkout(), reason="not a git checkout")
def test_the_default_data_dir_with_its_exports_is_ignored_by_git() -> None:
    default = Settings.model_fields["data_dir"].default
    export = f"{default}/exports/mydata-1-20260310T150000-0123456789abcdef.json"
    ignored = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "--quiet", "--no-index", export], check=False
    )
    assert ignored.returncode == 0, f"{export} would be committed"


def test_every_document_the_readme_names_is_in_the_repository() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    named = set(re.findall(r"[\w./-]+\.md\b", readme))
    assert {"docs/design.md", "docs/interface.md"} <= named
    assert sorted(name for name in named if not (ROOT / name).is_file()) == []


def test_the_interface_document_names_every_setting() -> None:
    text = INTERFACE.read_text("utf-8")
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in text]
    assert missing == []


def test_the_interface_document_names_every_command_line_command() -> None:
    text = INTERFACE.read_text("utf-8")
    assert [name for name, _, _ in COMMANDS if f"`postsale {name}" not in text] == []


def test_the_interface_document_names_every_chat_command() -> None:
    text = INTERFACE.read_text("utf-8")
    commands = [*CUSTOMER_COMMANDS, *OPERATOR_COMMANDS]  # every registered one, menu or not
    assert [name for name in commands if f"`/{name}" not in text] == []


DEPLOY = ROOT / "deploy"
LAYOUT_ONLY = {"POSTGRES_PASSWORD", "POSTSALE_DOMAIN", "POSTGRES_USER", "POSTGRES_DB"}
# Named in the guide, read by other programs: a benchmark's profiler, glibc's malloc.
NOT_OURS = {"BENCH_PROFILE", "MALLOC_ARENA_MAX"}


def settings_in_env_example() -> set[str]:
    lines = (ROOT / ".env.example").read_text("utf-8").splitlines()
    return {m.group(1) for line in lines if (m := re.match(r"#?\s*([A-Z][A-Z0-9_]+)=", line))}


def test_every_setting_the_deployment_guide_and_compose_file_name_is_a_real_one() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text("utf-8")
    compose = (DEPLOY / "compose.yaml").read_text("utf-8")
    named = set(re.findall(r"`([A-Z][A-Z0-9_]{3,})(?:=[^`]*)?`", guide))
    named |= set(re.findall(r"^\s+([A-Z][A-Z0-9_]+):", compose, flags=re.MULTILINE))
    assert {"DATABASE_URL", "WEBHOOK_SECRET", "HTTP_SERVER"} <= named
    assert sorted(named - settings_in_env_example() - LAYOUT_ONLY - NOT_OURS) == []


def test_the_proxy_forwards_the_bot_s_own_public_paths_and_not_its_metrics() -> None:
    from bot.channels.telegram.profile import DEFAULT_WEBHOOK_PATH
    from bot.channels.whatsapp.profile import WEBHOOK_PATH
    from bot.entrypoints.http import ingest, metrics, ready, stores
    from bot.entrypoints.http.admin import session

    [forwarded] = re.findall(r"@public path (.+)", (DEPLOY / "Caddyfile").read_text("utf-8"))
    paths = forwarded.split()
    assert DEFAULT_WEBHOOK_PATH in paths and WEBHOOK_PATH in paths and session.PATH in paths
    assert ingest.PATH.rsplit("/", 1)[0] + "/*" in paths
    assert stores.PATH.split("{")[0] + "*" in paths
    assert not any(p.startswith((metrics.PATH, ready.PATH)) for p in paths)
