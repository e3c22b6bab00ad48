#!/usr/bin/env bash
# Sets everything up and runs the main job: DclmSharp generating text with the built-in default model.
# Arguments go to `dclm generate`, e.g. ./run.sh --prompt "Call me" --max-tokens 64
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
if [ $# -eq 0 ]; then
  set -- --prompt "Fellow citizens," --max-tokens 64
fi
exec ./dclm generate "$@"
