"""``postsale web-link USER_ID``: a link that signs that operator or admin in, once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.admin_site import LINK, SECRET


def web_link(tmp_path: Path, user: str, secret: str = SECRET) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "WEB_SECRET": secret,
        "WEB_BASE_URL": "https://support.example.com",
        "ADMIN_IDS": "901",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "web-link", user],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )


def test_web_link_prints_a_link_for_an_admin_only(tmp_path: Path) -> None:
    made = web_link(tmp_path, "901")
    assert made.returncode == 0, made.stderr
    found = LINK.search(made.stdout)
    assert found is not None and found[1].startswith("https://support.example.com/admin/login?")
    assert web_link(tmp_path, "555").returncode == 1
    off = web_link(tmp_path, "901", secret="")
    assert off.returncode == 2 and "WEB_SECRET" in off.stderr
