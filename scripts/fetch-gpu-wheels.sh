#!/usr/bin/env bash
# Download, on a machine with a package index, the wheels that `scripts/test-gpu-offline.sh` needs on
# a GPU machine that has Python and a CUDA build of the framework but no index: nbval, ipykernel and
# what `bookbuild test-notebooks` imports (the reader of the chapters, its progress display,
# pytest-xdist), at the versions of requirements.txt, for the GPU machine's Python on Linux x86-64
# (docs/gpu.md, "A GPU machine without a package index").
# Usage: scripts/fetch-gpu-wheels.sh [DEST=.whl] [PYTHON_VERSION=3.11]   (.whl/ is git-ignored)
# PYTHON_VERSION is the GPU machine's (`python3 -V` there), not this machine's.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-.whl}
version=${2:-3.11}
mkdir -p "$dest"
mapfile -t pins < <(grep -E '^(nbval|ipykernel|nbclient|nbformat|PyYAML|pytest|pytest-xdist|rich|markdown-it-py|mdit-py-plugins|sphinx-external-toc|fastjsonschema|packaging)==' requirements.txt)
python3 -m pip download -q --disable-pip-version-check --only-binary=:all: \
  --python-version "$version" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 \
  -d "$dest" "${pins[@]}"
du -sh "$dest"
