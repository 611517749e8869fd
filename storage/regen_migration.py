"""Regenerate the initial migration from the models (pre-release only).

``python -m storage.regen_migration`` rewrites ``migrations/versions/0001_initial.py``
from an empty SQLite database. Once a release ships, add new revisions instead.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from storage.migrate import MIGRATIONS, alembic_config


def main() -> None:
    versions = MIGRATIONS / "versions"
    for old in versions.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'empty.db'}"
        command.revision(alembic_config(url), message="initial", autogenerate=True, rev_id="0001")
    made = next(versions.glob("0001_*.py"))
    made.rename(versions / "0001_initial.py")


if __name__ == "__main__":
    main()
