#!/usr/bin/env bash
# onnxruntime-node (npm) computes the logits of an f32 `dclm export onnx` and they are compared with `dclm logits`.
# Usage: scripts/onnx-node/check.sh MODEL "1 2 3"      (run from the repository root after `dotnet build -c Release`)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
model="$1"; prompt="$2"
dclm="${DCLM:-src/Dclm.Cli/bin/Release/net10.0/dclm}"
[ -d "$here/node_modules/onnxruntime-node" ] || (cd "$here" && npm install --no-audit --no-fund --ignore-scripts)
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
"$dclm" export onnx --model "$model" --output "$work/onnx" --type f32
"$dclm" logits --model "$model" --prompt-tokens "$prompt" --output "$work/dclm.f32"
node "$here/logits.mjs" "$work/onnx" "$prompt" "$work/node.f32"
node "$here/compare.mjs" "$work/node.f32" "$work/dclm.f32" 1e-4
