#!/usr/bin/env bash
# NVIDIA's PTX assembler (ptxas, CUDA 11.8, from Debian's non-free nvidia-cuda-toolkit), the GPU tests' oracle for the
# PTX our kernels compile to: it assembles each kernel for sm_90 and reports registers, spills and shared memory, on a
# machine without a GPU or driver. Installs only tests/oracles/ptxas/bin/ptxas: the package is downloaded through a
# private apt list (the machine's own sources are left as they are) and unpacked here, not installed. Safe to run again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ -x "$here/bin/ptxas" ] && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "ptxas: apt-get not found; put NVIDIA's ptxas at $here/bin/ptxas" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/parts"
cat > "$work/sources.list" <<LIST
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm non-free
LIST
apt=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/parts" -o "Dir::State::Lists=$work/lists"
     -o "Dir::Cache::Archives=$work/archives" -o "APT::Sandbox::User=root" -qq)
apt-get "${apt[@]}" update
(cd "$work" && apt-get "${apt[@]}" download nvidia-cuda-toolkit)
dpkg-deb -x "$work"/nvidia-cuda-toolkit_*.deb "$work/root"
mkdir -p "$here/bin"
cp "$work/root/usr/bin/ptxas" "$here/bin/ptxas"
"$here/bin/ptxas" --version | tail -1
