"""``postsale themes train FILE.csv [--out PATH]``, ``themes tag FILE.csv --column NAME
[--out OUT.csv]`` and ``themes retag``: a themes model of a store's own labelled texts, a
CSV file tagged, and the stored texts tagged again (``themes_retag``)."""

from __future__ import annotations

import argparse
import contextlib
import csv
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from bot.app import open_database
from bot.entrypoints.commands.themes_retag import add_retag, run_retag
from bot.settings import Settings
from bot.themes import ThemeModel, model_for, save, train
from bot.themes.files import SUFFIX
from storage.themes import corrected_texts

BATCH = 1000
DEFAULT_OUT = f"themes-model{SUFFIX}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    learn = sub.add_parser("train", help="train a model on a CSV file with columns text, theme")
    learn.add_argument("file", type=Path)
    learn.add_argument("--out", type=Path, default=Path(DEFAULT_OUT), help=f"default {DEFAULT_OUT}")
    learn.add_argument(
        "--with-examples",
        action="store_true",
        help="mix the shipped examples into the file's rows (weighed half)",
    )
    learn.add_argument(
        "--with-corrections",
        action="store_true",
        help="add the texts whose theme an operator set (/theme), read from DATABASE_URL",
    )
    tag = sub.add_parser("tag", help="copy a CSV file with a theme column added")
    tag.add_argument("file", type=Path)
    tag.add_argument("--column", required=True, help="the column with the texts to tag")
    tag.add_argument("--out", type=Path, help="the tagged CSV file (default: standard output)")
    add_retag(sub)


class CsvError(ValueError):
    pass


def column_index(header: list[str], name: str, path: Path) -> int:
    """Where ``name`` is in ``header`` (any case); ``CsvError`` naming the columns there are."""
    lowered = [h.strip().lower() for h in header]
    if name.strip().lower() not in lowered:
        have = ", ".join(header) or "none"
        raise CsvError(f"{path}: no column {name!r} (the file has: {have})")
    return lowered.index(name.strip().lower())


def labelled_rows(path: Path) -> Iterator[tuple[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        text_at, theme_at = column_index(header, "text", path), column_index(header, "theme", path)
        for row in reader:
            if len(row) > max(text_at, theme_at):
                yield row[text_at], row[theme_at]


async def corrections(settings: Settings) -> list[tuple[str, str]]:
    """The operators' corrections in the database, each (text, theme) once."""
    db = await open_database(settings)
    try:
        async with db.reader() as uow:
            found = [pair async for pair in corrected_texts(uow.session)]
    finally:
        await db.close()
    return list(dict.fromkeys(found))  # a detractor's reason comes as answer and as ticket


async def run_train_with_corrections(args: argparse.Namespace, settings: Settings) -> int:
    corrected = await corrections(settings)
    print(f"corrections read from the database: {len(corrected)}")
    try:
        return run_train(args, corrected)
    except (ValueError, OSError) as exc:
        print(f"postsale themes train: {exc}", file=sys.stderr)
        return 2


def run_train(args: argparse.Namespace, corrected: list[tuple[str, str]] | None = None) -> int:
    from bot.themes.shipped import example_rows
    from bot.themes.training import cross_validate

    rows = list(labelled_rows(args.file)) + (corrected or [])
    print(f"rows read: {len(rows)}")
    for theme, count in sorted(Counter(t.strip() for _, t in rows).items()):
        print(f"  {theme}: {count}")
    extra = example_rows() if args.with_examples else []
    if extra:
        print(f"with the {len(extra)} shipped examples (they only train, never score)")
    model = train(rows, extra)
    save(model, args.out)
    print(f"model written to {args.out} ({len(model.vocabulary)} features)")
    cv = cross_validate(rows, extra=extra)
    print(f"{cv.folds}-fold cross-validated macro-F1 {cv.macro_f1:.3f}, accuracy {cv.accuracy:.3f}")
    for theme, f1 in cv.per_theme_f1.items():
        print(f"  {theme}: F1 {f1:.3f}")
    return 0


def tag_stream(model: ThemeModel, source: IO[str], out: IO[str], column: str, path: Path) -> int:
    """Copy ``source`` to ``out`` with a ``theme`` column (replaced if there), in batches."""
    reader = csv.reader(source)
    header = next(reader, [])
    at = column_index(header, column, path)
    lowered = [h.strip().lower() for h in header]
    theme_at = lowered.index("theme") if "theme" in lowered else len(header)
    writer = csv.writer(out)
    writer.writerow(header if theme_at < len(header) else [*header, "theme"])
    done = 0
    while batch := [row for _, row in zip(range(BATCH), reader, strict=False)]:
        tags = model.tag_many([row[at] if at < len(row) else "" for row in batch])
        for row, tag in zip(batch, tags, strict=True):
            padded = row + [""] * (len(header) - len(row))
            if theme_at < len(header):
                padded[theme_at] = tag or ""
            else:
                padded.append(tag or "")
            writer.writerow(padded)
        done += len(batch)
    return done


def run_tag(args: argparse.Namespace, settings: Settings) -> int:
    model = model_for(settings.themes_model)
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(open(args.file, newline="", encoding="utf-8-sig"))
        if args.out is None:
            out: IO[str] = sys.stdout
        else:
            out = stack.enter_context(open(args.out, "w", newline="", encoding="utf-8"))
        done = tag_stream(model, source, out, args.column, args.file)
    print(f"tagged {done} rows", file=sys.stderr)
    return 0


def run(args: argparse.Namespace, settings: Settings) -> Any:
    if args.action == "retag":
        return run_retag(args, settings)  # a coroutine: the command line runs it
    if args.action == "train" and args.with_corrections:
        return run_train_with_corrections(args, settings)
    try:
        if args.action == "train":
            return run_train(args)
        return run_tag(args, settings)
    except (ValueError, OSError) as exc:  # a bad file or model: say so, no traceback
        print(f"postsale themes {args.action}: {exc}", file=sys.stderr)
        return 2
