#!/usr/bin/env bash
# `make test-gpu` for one framework on a GPU machine with no package index, whose Python already has
# the framework's CUDA build (e.g. torch+cu130): the wheels from scripts/fetch-gpu-wheels.sh go into
# a temporary folder on PYTHONPATH, that Python serves as the framework's GPU environment (pins not
# enforced: the record states the versions), and bookbuild runs from src/ without a .venv.
# It writes the verification record that docs/gpu.md asks for to $RECORD_DIR/gpu-run-FRAMEWORK.txt
# (RECORD_DIR defaults to $OUT, else _build).
# Usage: scripts/test-gpu-offline.sh [FRAMEWORK=pytorch]   (PYTHON=python3, WHEELS=.whl)
set -uo pipefail
cd "$(dirname "$0")/.."
framework=${1:-pytorch}
python=$(command -v "${PYTHON:-python3}")
wheels=${WHEELS:-.whl}
record=${RECORD_DIR:-${OUT:-_build}}/gpu-run-$framework.txt
mkdir -p "$(dirname "$record")"
site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
"$python" -m pip install -q --disable-pip-version-check --no-index --no-deps --target "$site" "$wheels"/*.whl || exit 1
export PYTHONPATH="$site:$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export "BOOKBUILD_${framework^^}_GPU_PYTHON=$python"
module=$(case $framework in pytorch) echo torch;; *) echo "$framework";; esac)
{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu, driver, memory: /'
  nvidia-smi | grep -o 'CUDA Version: [0-9.]*' | sed 's/^/driver supports /'
  "$python" -c "import sys, $module as m; print('python', sys.version.split()[0]); print('$module', m.__version__)"
  [ "$module" = torch ] && "$python" -c "import torch; print('torch CUDA build', torch.version.cuda, '| cuDNN', torch.backends.cudnn.version())"
} > "$record" 2>&1
start=$(date +%s)
"$python" -m bookbuild.cli test-notebooks --gpu "$framework" --pytest-args -rA 2>&1 | tee -a "$record"
status=${PIPESTATUS[0]}
echo "wall time: $(( $(date +%s) - start )) s; exit status $status" | tee -a "$record"
echo "record: $record"
exit "$status"
