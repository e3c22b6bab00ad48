#!/usr/bin/env bash
# Regenerates src/Dclm.Formats/Onnx/Onnx.g.cs, the Google.Protobuf classes for the ONNX model format,
# from src/Dclm.Formats/Onnx/onnx.proto (the file published by the ONNX project, unmodified) with
# protoc from the Google.Protobuf.Tools NuGet package. The generated file is committed so that a
# build needs no protoc; run this only after replacing onnx.proto with a newer published version.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/.*"Google.Protobuf" Version="\([^"]*\)".*/\1/p' Directory.Packages.props)
tools="${NUGET_PACKAGES:-$HOME/.nuget/packages}/google.protobuf.tools/$version/tools"
if [ ! -x "$tools/linux_x64/protoc" ]; then
  echo "protoc $version not found under $tools: restore the Google.Protobuf.Tools package first" >&2
  echo "(for example: dotnet add a scratch project package Google.Protobuf.Tools --version $version)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The published file names no C# namespace; the classes live beside the reader that uses them.
sed 's/^package onnx;$/package onnx;\noption csharp_namespace = "Dclm.Formats.Onnx";/' src/Dclm.Formats/Onnx/onnx.proto > "$work/onnx.proto"
"$tools/linux_x64/protoc" --proto_path="$work" --proto_path="$tools" --csharp_out="$work" \
  --csharp_opt=file_extension=.g.cs "$work/onnx.proto"
mv "$work/Onnx.g.cs" src/Dclm.Formats/Onnx/Onnx.g.cs
echo "wrote src/Dclm.Formats/Onnx/Onnx.g.cs"
