#!/usr/bin/env bash
# Speculative decoding side by side with plain decoding, interleaved: each configuration runs `dclm generate`
# greedily on the same prompt, and the script prints decode tokens/s (after the first token), acceptance and
# whether the output equals plain decoding's. Usage:
#   bench/speculation.sh MODEL PROMPT_FILE MAX_TOKENS ROUNDS "CONFIG" ["CONFIG" ...]
# where each CONFIG is extra `dclm generate` flags ("" = plain decoding), e.g.
#   bench/speculation.sh /tmp/dclm-bench/tinyllama-q4_0.gguf prompt.txt 128 3 "" "--lookup-ngram 3 --draft-max 4"
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
model="$1" prompt_file="$2" max_tokens="$3" rounds="$4"; shift 4
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
echo "host: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(uptime | sed 's/.*load/load/')"
for round in $(seq "$rounds"); do
  index=0
  for config in "$@"; do
    # shellcheck disable=SC2086
    "$here/dclm" generate --model "$model" --prompt "$(cat "$prompt_file")" --temperature 0 --max-tokens "$max_tokens" \
      --threads "${THREADS:-2}" --print-token-ids $config >"$scratch/out" 2>"$scratch/err"
    tail -n 1 "$scratch/out" >"$scratch/ids.$index"
    same=$(cmp -s "$scratch/ids.0" "$scratch/ids.$index" && echo same || echo DIFFERENT)
    speed=$(sed -n 's/.*decode \([0-9.]*\) tokens\/s.*/\1/p' "$scratch/err")
    spec=$(sed -n 's/^dclm: speculation: //p' "$scratch/err")
    echo "round $round | ${config:-plain} | decode $speed tok/s | output $same | ${spec:--}"
    index=$((index + 1))
  done
done
echo "end: $(uptime | sed 's/.*load/load/')"
