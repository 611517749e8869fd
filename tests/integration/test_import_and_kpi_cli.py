"""``postsale import-orders / import-responses / import-spend / kpi`` end to end (SQLite file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.entrypoints.cli import main
from storage.imports import ORDER_COLUMNS

# The columns before the optional delivery ones: a file without them still imports.
ORDERS = (
    ",".join(ORDER_COLUMNS[: ORDER_COLUMNS.index("delivered_at") + 1])
    + """
o1,c1,Ana,+55 11 91234-5678,ana@example.com,pt-BR,,129.90,BRL,2026-03-02 10:00,2026-03-05 18:00
o2,c1,Ana,,,,,70.10,BRL,2026-03-20T10:00:00-03:00,
o3,,Bea,,,,,10.00,BRL,2026-03-03 10:00,
o4,c2,Caio,,,,,abc,BRL,2026-03-03 10:00,
o5,c3,Dani,,,,,10.00,BRL,2026-02-10 10:00,
"""
)
RESPONSES = """response_id,customer_id,order_id,kind,score,comment,answered_at
r1,c1,o1,nps,10,great,2026-03-06 09:00
r2,c1,o1,csat,4,,2026-03-06 09:01
,c1,o2,nps,6,late,2026-03-21 09:00
r4,nobody,,nps,9,,2026-03-21 09:00
"""
SPEND = """month,channel,amount,currency
2026-03,ads,300.00,BRL
2026-03,social,x,BRL
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "America/Sao_Paulo")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    for name, text in (("orders", ORDERS), ("responses", RESPONSES), ("spend", SPEND)):
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    return tmp_path


def test_importing_files_prints_counts_and_rejected_lines(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-orders", str(env / "orders.csv")]) == 0
    out = capsys.readouterr().out
    assert "5 rows read" in out
    assert "added                3" in out
    assert "line 4: missing customer_id" in out
    assert "line 5: total 'abc' is not a decimal number" in out
    assert main(["import-orders", str(env / "orders.csv"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["added"], report["unchanged"], report["rejected"]) == (0, 3, 2)
    assert main(["import-responses", str(env / "responses.csv")]) == 0
    assert "line 5: unknown customer_id 'nobody'" in capsys.readouterr().out
    assert main(["import-spend", str(env / "spend.csv"), "--show", "0"]) == 0
    out = capsys.readouterr().out
    assert "rejected             1" in out and "... and 1 more" in out


def test_an_unreadable_file_or_missing_columns_exit_with_2(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-orders", str(env / "missing.csv")]) == 2
    assert "missing.csv" in capsys.readouterr().err
    assert main(["import-spend", str(env / "orders.csv")]) == 2
    assert "missing column(s) month, channel, amount" in capsys.readouterr().err
    (env / "latin1.csv").write_bytes(
        "order_id,customer_id,purchased_at\no1,Jos\xe9,2026\n".encode("latin-1")
    )
    assert main(["import-orders", str(env / "latin1.csv")]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_kpi_prints_the_json_object_with_until_inclusive(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("orders", "responses", "spend"):
        assert main([f"import-{name}", str(env / f"{name}.csv")]) == 0
    capsys.readouterr()
    assert main(["kpi", "--since", "2026-03-01", "--until", "2026-03-31", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["period"] == {
        "since": "2026-03-01T00:00:00-03:00",
        "until": "2026-04-01T00:00:00-03:00",
    }
    assert figures["nps"]["score"] == 0.0  # one promoter, one detractor
    assert figures["csat"] == {"mean": 4.0, "satisfied_pct": 100.0, "responses": 1}
    assert figures["customers"]["with_orders"] == 1
    assert figures["customers"]["repeat_purchase_pct"] == 100.0
    assert figures["customers"]["churn_pct"] == 100.0  # c3 bought in February only
    assert figures["customers"]["ltv_cents"] == 20000
    assert figures["customers"]["cac_cents"] == 30000
    assert main(["kpi", "--until", "2026-03-20"]) == 0
    table = capsys.readouterr().out
    assert "KPIs from the beginning to 2026-03-20 (inclusive, America/Sao_Paulo)" in table
    assert "NPS" in table and "Definitions" in table
    assert main(["kpi", "--since", "yesterday"]) == 2
