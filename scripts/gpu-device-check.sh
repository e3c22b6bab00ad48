#!/usr/bin/env bash
# The GPU backend's checks on a machine with an NVIDIA GPU and no .NET SDK (issue 24).
#
# Usage: scripts/gpu-device-check.sh DIR
#   DIR/dclm/      a framework-dependent publish of the CLI:
#                    dotnet publish src/Dclm.Cli -c Release -o DIR/dclm
#   DIR/fixtures/  tests/fixtures/dclm-tiny and tests/fixtures/dclm-tiny-bf16
#   DIR/dotnet/    a .NET 10 runtime (or set DOTNET to a dotnet executable)
# Writes to $OUT (default ./gpu-out): gpu-check.txt, bench-TYPE-ctxC.txt/.json for TYPE in q4_0 bf16 and C in
# $CONTEXTS, nvidia-smi.txt, date.txt.
# Steps: (1) every conformance case on cuda (logits against the CPU engine, batched against one by one, long contexts
# through split attention), one PASS/FAIL line each; (2) DCLM-7B-shaped q4_0 then bf16: a prompt of C tokens (prefill
# tok/s) then GEN decode steps at contexts C..C+GEN (decode tok/s), beside the device bandwidth bound, for each C.
# Each step has its own time limit, so a slow one cannot eat the others' minutes; the synthetic model of a type is
# written once and reused across contexts. After the contexts, the last context runs again once per entry of
# VARIANTS (space-separated NAME=VALUE settings, default none), each an A/B of one switch against the default run:
#   DCLM_GPU_ATTENTION_SPLIT=16|64|128  attention split length      DCLM_GPU_ATTENTION=warp  per-warp attention kernel
#   DCLM_GPU_MMA=0                      q8_0/q4_0/f16/bf16 prefill on the FMA tile kernels instead of tensor cores
#   DCLM_GPU_FUSED=0                    the unfused element kernels (more launches, same bits)
#   DCLM_GPU_PROFILE=1                  device time per part of a step on stderr (one repetition)
#   DCLM_GPU_OPTIMIZE=O2                ILGPU's O2 (ld.global, loop optimisations); O2=1 also runs gpu-check under it
# (SPLITS="16 64", MMA_AB=1, UNFUSED=1, WARP=1, PROFILE=1 and O2=1 add the matching variants.) Set CONTEXTS/GEN/REPS to shrink the runs; CHECK=0 skips step 1 and TYPES
# picks the benched types, so one device session can run it in two calls under a 10-minute limit per command:
#   TYPES=q4_0 scripts/gpu-device-check.sh DIR     then     CHECK=0 TYPES=bf16 scripts/gpu-device-check.sh DIR
set -uo pipefail
DIR=${1:?usage: gpu-device-check.sh DIR (holding dclm/, fixtures/ and dotnet/)}
OUT=${OUT:-./gpu-out}
DOTNET=${DOTNET:-$DIR/dotnet/dotnet}
CHECK=${CHECK:-1}
TYPES=${TYPES:-q4_0 bf16}
CONTEXTS=${CONTEXTS:-128 1024}
GEN=${GEN:-64}
REPS=${REPS:-2}
WORK=${WORK:-/tmp/dclm-bench}
VARIANTS=${VARIANTS:-}
for split in ${SPLITS:-}; do VARIANTS="$VARIANTS DCLM_GPU_ATTENTION_SPLIT=$split"; done
[ "${MMA_AB:-0}" = 1 ] && VARIANTS="$VARIANTS DCLM_GPU_MMA=0"
[ "${UNFUSED:-0}" = 1 ] && VARIANTS="$VARIANTS DCLM_GPU_FUSED=0"
[ "${WARP:-0}" = 1 ] && VARIANTS="$VARIANTS DCLM_GPU_ATTENTION=warp"
[ "${PROFILE:-0}" = 1 ] && VARIANTS="$VARIANTS DCLM_GPU_PROFILE=1"
[ "${O2:-0}" = 1 ] && VARIANTS="$VARIANTS DCLM_GPU_OPTIMIZE=O2"
mkdir -p "$OUT" "$WORK"
export DOTNET_ROOT=$(dirname "$DOTNET")
dclm() { "$DOTNET" "$DIR/dclm/dclm.dll" "$@"; }

(nvidia-smi || true) > "$OUT/nvidia-smi.txt" 2>&1
date -u +"%Y-%m-%dT%H:%M:%SZ" > "$OUT/date.txt"

if [ "$CHECK" != 0 ]; then
  echo "== gpu-check (cuda)"
  timeout 180 "$DOTNET" "$DIR/dclm/dclm.dll" gpu-check --device cuda --fixtures "$DIR/fixtures" 2>&1 | tee "$OUT/gpu-check.txt"
  echo "gpu-check exit ${PIPESTATUS[0]}" | tee -a "$OUT/gpu-check.txt"
  if [ "${O2:-0}" = 1 ]; then
    # O2 changes only the PTX, which the CPU accelerator never runs: its results are first checked here.
    echo "== gpu-check (cuda, DCLM_GPU_OPTIMIZE=O2)"
    DCLM_GPU_OPTIMIZE=O2 timeout 180 "$DOTNET" "$DIR/dclm/dclm.dll" gpu-check --device cuda --fixtures "$DIR/fixtures" 2>&1 | tee "$OUT/gpu-check-o2.txt"
    echo "gpu-check O2 exit ${PIPESTATUS[0]}" | tee -a "$OUT/gpu-check-o2.txt"
  fi
fi

for type in $TYPES; do
  for context in $CONTEXTS; do
    echo "== bench DCLM-7B shape, $type, pp$context tg$GEN, $REPS repetitions"
    timeout 180 "$DOTNET" "$DIR/dclm/dclm.dll" bench --device cuda --model synthetic:dclm-7b --type "$type" --prompt "$context" --gen "$GEN" \
      --repetitions "$REPS" --threads "$(nproc)" --work-dir "$WORK" --json "$OUT/bench-$type-ctx$context.json" 2>&1 | tee "$OUT/bench-$type-ctx$context.txt"
    echo "bench $type ctx$context exit ${PIPESTATUS[0]}" | tee -a "$OUT/bench-$type-ctx$context.txt"
  done
  for variant in $VARIANTS; do
    name=${variant%%=*}; value=${variant#*=}
    case "$name" in DCLM_GPU_*) ;; *) echo "VARIANTS entry '$variant' is not a DCLM_GPU_NAME=VALUE setting" >&2; continue ;; esac
    # The tensor-core switch only concerns quantized types.
    if [ "$name" = DCLM_GPU_MMA ] && { [ "$type" = bf16 ] || [ "$type" = f16 ] || [ "$type" = f32 ]; }; then continue; fi
    reps=$REPS; [ "$name" = DCLM_GPU_PROFILE ] && reps=1
    tag="$type-ctx$context-$(echo "$variant" | tr 'A-Z=' 'a-z-')"
    echo "== bench DCLM-7B shape, $type, pp$context tg$GEN, $variant"
    env "$name=$value" timeout 180 "$DOTNET" "$DIR/dclm/dclm.dll" bench --device cuda --model synthetic:dclm-7b --type "$type" \
      --prompt "$context" --gen "$GEN" --repetitions "$reps" --threads "$(nproc)" --work-dir "$WORK" \
      --json "$OUT/bench-$tag.json" 2>&1 | tee "$OUT/bench-$tag.txt"
    echo "bench $tag exit ${PIPESTATUS[0]}" | tee -a "$OUT/bench-$tag.txt"
  done
  # The synthetic file is only needed for this type's runs; the disk is small.
  rm -f "$WORK"/*"$type"*.gguf
done
