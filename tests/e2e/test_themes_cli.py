"""``postsale themes train`` and ``themes tag`` as real processes on temporary CSV files."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def postsale(tmp_path: Path, *args: str, model: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "THEMES_MODEL": model, "LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "themes", *args],
        cwd=tmp_path,  # no stray .env is read; the default --out lands here
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)
    return path


# A store whose own words differ from the shipped examples: "sumiu" is its late delivery.
LABELLED = [
    *[[f"o pacote sumiu {i}", "late_delivery"] for i in range(6)],
    *[[f"cor trocada modelo {i}", "not_as_advertised"] for i in range(6)],
    *[[f"nota dez loja {i}", "satisfied"] for i in range(6)],
]


def read_tagged(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(text.splitlines()))


def test_train_then_tag_with_themes_model_pointing_at_the_trained_file(tmp_path: Path) -> None:
    write_csv(tmp_path / "labelled.csv", ["Text", "Theme"], LABELLED)
    trained = postsale(tmp_path, "train", "labelled.csv")
    assert trained.returncode == 0, trained.stderr
    assert "rows read: 18" in trained.stdout
    assert "late_delivery: 6" in trained.stdout
    assert "cross-validated macro-F1" in trained.stdout
    model = tmp_path / "themes-model.npz"
    assert model.is_file()
    write_csv(
        tmp_path / "reasons.csv",
        ["id", "reason"],
        [["1", "o pacote sumiu"], ["2", ""], ["3", "nota dez"], ["4", "cor trocada"]],
    )
    tagged = postsale(tmp_path, "tag", "reasons.csv", "--column", "REASON", model=str(model))
    assert tagged.returncode == 0, tagged.stderr
    rows = read_tagged(tagged.stdout)
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert [r["theme"] for r in rows] == ["late_delivery", "", "satisfied", "not_as_advertised"]


def test_tag_with_the_default_model_into_a_file(tmp_path: Path) -> None:
    write_csv(tmp_path / "in.csv", ["comment"], [["quero devolver, veio com defeito"], ["adorei"]])
    done = postsale(tmp_path, "tag", "in.csv", "--column", "comment", "--out", "out.csv")
    assert done.returncode == 0, done.stderr
    rows = read_tagged((tmp_path / "out.csv").read_text(encoding="utf-8"))
    assert rows[1] == {"comment": "adorei", "theme": "satisfied"}
    assert rows[0]["theme"] in {"return_exchange", "low_quality"}


def test_clear_errors_for_a_missing_column_an_unknown_theme_and_a_bad_model(
    tmp_path: Path,
) -> None:
    write_csv(tmp_path / "in.csv", ["id", "comment"], [["1", "adorei"]])
    missing = postsale(tmp_path, "tag", "in.csv", "--column", "reason")
    assert missing.returncode == 2
    assert "no column 'reason' (the file has: id, comment)" in missing.stderr
    write_csv(tmp_path / "bad.csv", ["text", "theme"], [["veio rapido", "shipping"]] * 12)
    unknown = postsale(tmp_path, "train", "bad.csv")
    assert unknown.returncode == 2
    assert "unknown theme 'shipping'" in unknown.stderr
    (tmp_path / "junk.npz").write_text("junk")
    bad = postsale(tmp_path, "tag", "in.csv", "--column", "comment", model="junk.npz")
    assert bad.returncode == 2
    assert "themes model junk.npz: not a usable model file" in bad.stderr


def peak_rss_mb_of(tmp_path: Path, rows: int) -> float:
    """The peak RSS of a ``themes tag`` process over ``rows`` rows of ~400 bytes."""
    filler = "x" * 360
    source = tmp_path / f"big-{rows}.csv"
    with source.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["id", "comment", "filler"])
        out.writerows([str(i), f"nao recebi o pedido {i}", filler] for i in range(rows))
    code = (
        "import resource, sys;"
        "from bot.entrypoints.cli import main;"
        "code = main(sys.argv[1:]);"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr);"
        "sys.exit(code)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "THEMES_MODEL": "", "LOG_LEVEL": "WARNING"}
    args = ["themes", "tag", source.name, "--column", "comment", "--out", "out.csv"]
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    assert f"tagged {rows} rows" in done.stderr
    return int(done.stderr.split()[-1]) / 1024


def test_tagging_streams_a_large_file_in_bounded_memory(tmp_path: Path) -> None:
    small = peak_rss_mb_of(tmp_path, 1_000)
    large = peak_rss_mb_of(tmp_path, 100_000)  # about 40 MB of CSV
    assert (tmp_path / "big-100000.csv").stat().st_size > 35 * 2**20
    assert large - small < 10, (small, large)


def test_train_with_examples_knows_themes_the_store_never_labelled(tmp_path: Path) -> None:
    write_csv(tmp_path / "labelled.csv", ["text", "theme"], LABELLED)
    plain = postsale(tmp_path, "train", "labelled.csv", "--out", "plain.npz")
    mixed = postsale(tmp_path, "train", "labelled.csv", "--with-examples", "--out", "mixed.npz")
    assert plain.returncode == 0, plain.stderr
    assert mixed.returncode == 0, mixed.stderr
    assert "shipped examples (they only train, never score)" in mixed.stdout
    assert "rows read: 18" in mixed.stdout
    texts = [["1", "o pacote sumiu"], ["2", "comprei dois e so veio um, faltou o outro"]]
    write_csv(tmp_path / "reasons.csv", ["id", "reason"], texts)
    themes = {}
    for name in ("plain", "mixed"):
        done = postsale(tmp_path, "tag", "reasons.csv", "--column", "reason", model=f"{name}.npz")
        assert done.returncode == 0, done.stderr
        themes[name] = [r["theme"] for r in read_tagged(done.stdout)]
    assert themes["mixed"] == ["late_delivery", "partial_delivery"]  # the store's word kept
    assert "partial_delivery" not in themes["plain"]  # only the examples taught it


def test_train_with_corrections_learns_what_operators_set_in_the_database(tmp_path: Path) -> None:
    import asyncio
    from datetime import UTC, datetime

    from bot.app import Database
    from storage.models import SurveyResponse

    url = f"sqlite+aiosqlite:///{tmp_path / 'postsale.db'}"
    corrected = "a alca soltou no primeiro uso"  # a theme the store's file never labels

    async def store_corrections() -> None:
        db = await Database.open(url)
        try:
            async with db.uow() as uow:
                for n in range(4):  # an operator set the theme of four answers (/theme)
                    uow.session.add(
                        SurveyResponse(
                            dedup_key=f"k{n}", kind="nps", score=2, reason=f"{corrected} {n}",
                            source="chat", answered_at=datetime(2026, 3, 1, tzinfo=UTC),
                            theme="low_quality", theme_source="operator",
                        )
                    )  # fmt: skip
                await uow.commit()
        finally:
            await db.close()

    asyncio.run(store_corrections())
    write_csv(tmp_path / "labelled.csv", ["text", "theme"], LABELLED)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    trained = subprocess.run(
        [sys.executable, "-m", "bot", "themes", "train", "labelled.csv", "--with-corrections"],
        cwd=tmp_path, env={**env, "THEMES_MODEL": ""}, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert "corrections read from the database: 4" in trained.stdout
    assert "low_quality: 4" in trained.stdout
    write_csv(tmp_path / "new.csv", ["comment"], [[corrected]])
    model = str(tmp_path / "themes-model.npz")
    tagged = postsale(tmp_path, "tag", "new.csv", "--column", "comment", model=model)
    assert tagged.returncode == 0, tagged.stderr
    assert read_tagged(tagged.stdout)[0]["theme"] == "low_quality"
