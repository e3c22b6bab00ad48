#!/usr/bin/env bash
# The GPU backend's checks on a machine with an NVIDIA GPU and no .NET SDK (issue 24).
#
# Usage: scripts/gpu-device-check.sh DIR
#   DIR/dclm/      a framework-dependent publish of the CLI:
#                    dotnet publish src/Dclm.Cli -c Release -o DIR/dclm
#   DIR/fixtures/  tests/fixtures/dclm-tiny and tests/fixtures/dclm-tiny-bf16
#   DIR/dotnet/    a .NET 10 runtime (or set DOTNET to a dotnet executable)
# Writes to $OUT (default ./gpu-out): gpu-check.txt, bench-q4_0.txt/.json, bench-bf16.txt/.json, nvidia-smi.txt.
# Steps: (1) every conformance case on cuda (logits against the CPU engine, batched against one by one), one
# PASS/FAIL line each; (2) DCLM-7B-shaped q4_0 then bf16, pp and tg, beside the device bandwidth bound. Each step
# has its own time limit, so a slow one cannot eat the others' minutes. Set PROMPT/GEN/REPS to shrink the runs.
set -uo pipefail
DIR=${1:?usage: gpu-device-check.sh DIR (holding dclm/, fixtures/ and dotnet/)}
OUT=${OUT:-./gpu-out}
DOTNET=${DOTNET:-$DIR/dotnet/dotnet}
PROMPT=${PROMPT:-512}
GEN=${GEN:-128}
REPS=${REPS:-2}
WORK=${WORK:-/tmp/dclm-bench}
mkdir -p "$OUT" "$WORK"
export DOTNET_ROOT=$(dirname "$DOTNET")
dclm() { "$DOTNET" "$DIR/dclm/dclm.dll" "$@"; }

(nvidia-smi || true) > "$OUT/nvidia-smi.txt" 2>&1
date -u +"%Y-%m-%dT%H:%M:%SZ" > "$OUT/date.txt"

echo "== gpu-check (cuda)"
timeout 240 "$DOTNET" "$DIR/dclm/dclm.dll" gpu-check --device cuda --fixtures "$DIR/fixtures" 2>&1 | tee "$OUT/gpu-check.txt"
echo "gpu-check exit ${PIPESTATUS[0]}" | tee -a "$OUT/gpu-check.txt"

for type in q4_0 bf16; do
  echo "== bench DCLM-7B shape, $type, pp$PROMPT tg$GEN, $REPS repetitions"
  timeout 420 "$DOTNET" "$DIR/dclm/dclm.dll" bench --device cuda --model synthetic:dclm-7b --type "$type" --prompt "$PROMPT" --gen "$GEN" \
    --repetitions "$REPS" --threads "$(nproc)" --work-dir "$WORK" --json "$OUT/bench-$type.json" 2>&1 | tee "$OUT/bench-$type.txt"
  echo "bench $type exit ${PIPESTATUS[0]}" | tee -a "$OUT/bench-$type.txt"
  # The synthetic file is only needed for this run; the disk is small.
  rm -f "$WORK"/*"$type"*.gguf
done
