#!/usr/bin/env bash
# Sets everything up and runs the main job: DclmSharp generating text with the built-in default model.
# Extra arguments go to `dclm generate`, e.g. ./run.sh --prompt "The whale" --max-tokens 64
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec ./dclm generate "$@"
