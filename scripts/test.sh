#!/usr/bin/env bash
# Set up, lint, type-check and run the whole test suite: the one check CI runs too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== import-linter"; .venv/bin/lint-imports
echo "== pytest"; .venv/bin/pytest "$@"
# The storage and engine suites again on SQLite without its fast path (storage/uow.py):
# plain SQLAlchemy over aiosqlite must behave the same.
echo "== pytest, SQLITE_FAST_PATH=0"
SQLITE_FAST_PATH=0 .venv/bin/pytest -q -m "not reliability and not slow" \
    tests/integration/test_fast_path.py tests/integration/test_engine.py \
    tests/integration/test_prepared.py tests/integration/test_sqlite_writer.py \
    tests/integration/test_answers.py tests/integration/test_imports.py \
    tests/integration/test_kpi.py tests/integration/test_data_rights.py \
    tests/integration/test_channel_scenarios.py tests/integration/test_outbox_sender.py \
    tests/integration/test_operator_kpi.py tests/integration/test_whatsapp_core.py
