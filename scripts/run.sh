#!/usr/bin/env bash
# Set up and run the bot on the embedded default (SQLite). Without BOT_TOKEN it opens
# the terminal chat; with one it runs on Telegram. Extra arguments go to `postsale run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/postsale run "$@"
