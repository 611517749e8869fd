"""``postsale import-orders`` and ``postsale link --pending`` as real processes (SQLite file)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.imports import ORDER_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = (*ORDER_COLUMNS, "updated_at")


def postsale(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        "DEFAULT_TIMEZONE": "America/Sao_Paulo",
        "DEFAULT_LOCALE": "pt-BR",
        "BOT_USERNAME": "shop_bot",
        "LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no stray .env is read
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def write_orders(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


NOW = datetime.now(UTC)
BOUGHT, DELIVERED = stamp(NOW - timedelta(days=3)), stamp(NOW - timedelta(hours=20))


def test_link_pending_lists_customers_delivered_by_an_import_before_any_bot_ran(
    tmp_path: Path,
) -> None:
    rows = [
        {"order_id": "o1", "customer_id": "c1", "customer_name": "Ana", "phone": "(21) 99974-2028",
         "locale": "es", "purchased_at": BOUGHT, "delivered_at": DELIVERED},
        {"order_id": "o2", "customer_id": "c2", "purchased_at": BOUGHT},
    ]  # fmt: skip
    postsale(tmp_path, "import-orders", str(write_orders(tmp_path / "orders.csv", rows)))
    out = postsale(tmp_path, "link", "--pending").stdout
    listed = list(csv.DictReader(out.splitlines()))
    assert [(r["customer_id"], r["name"], r["phone"]) for r in listed] == [
        ("c1", "Ana", "+5521999742028")
    ]
    assert listed[0]["link"].startswith("https://t.me/shop_bot?start=")


def test_a_repeated_order_an_unreadable_phone_and_a_stale_row_are_reported_by_line(
    tmp_path: Path,
) -> None:
    base = {"customer_id": "c1", "purchased_at": BOUGHT}
    rows = [
        {**base, "order_id": "o1", "total": "10.00"},
        {**base, "order_id": "o2", "phone": "12345", "customer_name": "Bea\x00"},
        {**base, "order_id": "o1", "total": "20.00", "updated_at": stamp(NOW - timedelta(days=1))},
    ]
    path = write_orders(tmp_path / "orders.csv", rows)
    first = json.loads(postsale(tmp_path, "import-orders", str(path), "--json").stdout)
    assert (first["added"], first["updated"], first["rejected"]) == (2, 0, 1)
    assert first["rejections"] == [
        {"line": 2, "reason": "order_id repeated on line 4, the row kept"}
    ]
    assert first["warnings"] == [
        {"line": 3, "reason": "customer_name held NUL or invalid characters; they were removed"},
        {"line": 3, "reason": "phone '12345' is not a valid number; imported without it"},
    ]
    again = json.loads(postsale(tmp_path, "import-orders", str(path), "--json").stdout)
    assert (again["added"], again["updated"], again["unchanged"], again["stale"]) == (0, 0, 1, 1)
    older = [{**rows[2], "total": "5.00", "updated_at": stamp(NOW - timedelta(days=2))}]
    text = postsale(tmp_path, "import-orders", str(write_orders(tmp_path / "old.csv", older)))
    assert "stale                1" in text.stdout
