#!/usr/bin/env bash
# JSON mode through plain HTTP with default sampling: starts `dclm serve` on the built-in default model, asks
# for N json_object replies of at most 40 tokens (seeds 1..N, temperature and top_p left at their defaults),
# and prints per reply the whitespace before the object opens, the newlines in it, whether a key was started
# and whether the object closed; then the totals. docs/hardening.md has the figures before and after issue 23.
#
#   scripts/json-mode-replies.sh [DCLM_DLL] [N]    (DCLM_DLL: src/Dclm.Cli/bin/Release/net10.0/dclm.dll)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dll="${1:-$here/src/Dclm.Cli/bin/Release/net10.0/dclm.dll}"
count="${2:-20}"
port=$((20000 + RANDOM % 20000))
dotnet "$dll" serve --model "$here/models/default/model.gguf" --port "$port" > /dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && break
  sleep 1
done
replies=$(mktemp)
for seed in $(seq 1 "$count"); do
  curl -s "http://127.0.0.1:$port/v1/chat/completions" -H 'Content-Type: application/json' -d "{
    \"messages\": [{\"role\": \"user\", \"content\": \"Describe the State of the Union in JSON.\"}],
    \"response_format\": {\"type\": \"json_object\"}, \"max_tokens\": 40, \"seed\": $seed}" >> "$replies"
  echo >> "$replies"
done
python3 - "$replies" <<'EOF'
import json, sys
rows = []
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    reply = json.loads(line)["choices"][0]["message"]["content"]
    opened = reply.find("{")
    lead = reply[:opened] if opened >= 0 else reply
    body = reply[opened:] if opened >= 0 else ""
    try:
        closed = isinstance(json.loads(reply), dict)
    except ValueError:
        closed = False
    key = chr(34) in body
    rows.append((len(lead), lead.count("\n"), body.count("\n"), key, closed))
    shown = json.dumps(reply)[:70]
    print(f"before the object: {len(lead):3d} chars ({lead.count(chr(10)):2d} newlines)  newlines inside: {body.count(chr(10)):2d}  key started: {key!s:5}  closed: {closed!s:5}  {shown}")
n = len(rows)
print(f"{n} replies: mean {sum(r[0] for r in rows) / n:.1f} characters ({sum(r[1] for r in rows) / n:.1f} newlines) before the object opens, "
      f"{sum(r[2] for r in rows) / n:.1f} newlines inside; {sum(r[3] for r in rows)} started a key, {sum(r[4] for r in rows)} closed the object")
EOF
rm -f "$replies"
