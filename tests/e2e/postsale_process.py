"""``postsale`` as a real process, with only the settings a test gives it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**settings: str) -> dict[str, str]:
    """This environment without any postsale setting, then ``settings``."""
    names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **settings}


def postsale(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run ``postsale ARGS`` in ``cwd`` (where it looks for ``.env``) to the end."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=clean_env(**settings),
        cwd=cwd,
        timeout=120,
    )


async def start_postsale(*args: str, cwd: Path, **settings: str) -> asyncio.subprocess.Process:
    """``postsale ARGS`` started, its output piped (for a test that serves it meanwhile)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=clean_env(**settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
