"""Default-device assumptions, found without a GPU: the notebooks on the GPU kernel's stand-in device.

A GPU kernel makes the GPU its framework's default device, so a cell that relies on the default
being the CPU fails only on a GPU. tests/stand_in_kernel.py starts the same kernel, through the same
functions of src/bookbuild/gpu_kernel.py, with a default device that is not the CPU: PyTorch's
`standin` device, MXNet's context cpu(1). nbval then re-runs every PyTorch and MXNet notebook on it
and compares each output with the committed CPU one, with the GPU run's sanitizer. What this cannot
catch is listed in docs/gpu.md ("Without a GPU: the stand-in device").
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from test_gpu import cpu_python, run_in_kernel

from bookbuild import envs, nbval_run
from bookbuild.library import kernel_environment

REPO = Path(__file__).resolve().parent.parent
LAUNCHER = REPO / "tests" / "stand_in_kernel.py"
SANITIZER = REPO / "tests" / "nbval-sanitize-stand-in.cfg"
FRAMEWORKS = ["pytorch", "mxnet"]  # TensorFlow has no default device to set: docs/gpu.md


@pytest.fixture
def stand_in(settings, tmp_path, monkeypatch):
    """Registers `dlbook-<framework>-standin` in a private Jupyter data folder; returns its name."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))

    def register(name: str) -> str:
        framework = settings.framework(name)
        folder = tmp_path / "jupyter" / "kernels" / f"dlbook-{name}-standin"
        spec = envs.kernelspec(framework, "gpu", cpu_python(settings, name), folder)
        spec["argv"] = [spec["argv"][0], str(LAUNCHER), name, "-f", "{connection_file}"]
        spec["display_name"] = f"{framework.display_name} (stand-in device)"
        folder.mkdir(parents=True)
        (folder / "kernel.json").write_text(json.dumps(spec))
        return folder.name

    return register


def code_cells(paths: list[str]) -> int:
    return sum(cell.cell_type == "code" for path in paths for cell in nbformat.read(REPO / path, as_version=4).cells)


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_every_notebook_gives_the_cpu_outputs_on_a_default_device_that_is_not_the_cpu(settings, stand_in, name,
                                                                                     tmp_path):
    """The code is the same in every language, so the first language's notebooks stand for all."""
    kernel = stand_in(name)
    first = settings.language_codes[0]
    paths = [path for path in nbval_run.notebooks_of(settings, name) if path.startswith(f"notebooks/{first}/")]
    sanitizer = tmp_path / "sanitize.cfg"
    sanitizer.write_text(nbval_run.sanitizer_text(REPO, "gpu") + "\n" + SANITIZER.read_text())
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval", "--nbval-kernel-name", kernel,
         "--nbval-sanitize-with", str(sanitizer), "-q", "-rf", *paths],
        cwd=REPO, capture_output=True, text=True, env=kernel_environment(settings))
    report = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    failed = re.findall(r"^FAILED (\S+::Cell \d+)", report, flags=re.MULTILINE)
    assert result.returncode == 0 and not failed, f"cells that assume the CPU is the default device: {failed}\n" \
                                                 + report[-6000:]
    assert re.search(rf"\b{code_cells(paths)} passed\b", report), report[-2000:]  # every cell ran


# The detector itself: cells that assume the default device is the CPU, and cells that do not.
PYTORCH_CELLS = [
    ("x = torch.arange(4)\nassert x.device == torch.device('cpu')", "AssertionError"),
    ("torch.rand(3).numpy()", "TypeError"),
    ("torch.equal(torch.ones(2), torch.ones(2, device='cpu'))", "RuntimeError"),
    ("torch.ones(2, 3) @ torch.ones(3, device='cpu')", "RuntimeError"),
    ("x = torch.arange(4, device='cpu')\nassert x.device == torch.device('cpu')\nprint(x.numpy())", None),
    ("print(torch.ones(2) + torch.tensor(1.0, device='cpu'))", None),  # a 0-d CPU tensor mixes, as on CUDA
    ("with torch.device('cpu'):\n    print(torch.rand(2).numpy().round(4))", None),
    ("path = tempfile.mktemp()\ntorch.save({'w': torch.arange(3)}, path)\nw = torch.load(path)['w']\n"
     "print(w.device, w.cpu().tolist(), torch.equal(w, torch.arange(3)))", None),
    ("net = torch.nn.Linear(3, 1)\nnet(torch.ones(2, 3)).sum().backward()\n"
     "print(net.weight.device, type(net.weight).__name__, net.bias.grad.cpu().tolist())", None),
]
PYTORCH_STDOUT = ["[0 1 2 3]\n", "tensor([2., 2.], device='standin:0')\n", "[0.132  0.3074]\n",
                  "standin:0 [0, 1, 2] True\n", "standin:0 Parameter [2.0]\n"]

MXNET_CELLS = [
    ("x = np.arange(4)\nassert x.ctx == npx.cpu()", "AssertionError"),
    ("net = nn.Dense(2)\nnet.initialize(ctx=npx.cpu())\nnet.hybridize()\nnet(np.ones((1, 3)))", "MXNetError"),
    ("x = np.arange(4, ctx=npx.cpu())\nassert x.ctx == npx.cpu()\nprint(x.asnumpy())", None),
    ("net = nn.Dense(2)\nnet.initialize()\nnet.hybridize()\nprint(net(np.ones((1, 3))).ctx)", None),
]
MXNET_STDOUT = ["[0. 1. 2. 3.]\n", "cpu(1)\n"]
SETUP = {
    "pytorch": "import tempfile, torch\ntorch.manual_seed(0)",
    "mxnet": "from mxnet import np, npx\nfrom mxnet.gluon import nn\nnpx.set_np()",
}


@pytest.mark.parametrize("name, cells, stdout", [("pytorch", PYTORCH_CELLS, PYTORCH_STDOUT),
                                                 ("mxnet", MXNET_CELLS, MXNET_STDOUT)])
def test_the_stand_in_refuses_what_a_gpu_refuses(stand_in, name, cells, stdout):
    setup, *results = run_in_kernel(stand_in(name), [SETUP[name], *(code for code, _ in cells)])
    assert setup["status"] == "ok", setup
    for (code, error), result in zip(cells, results, strict=True):
        assert result["ename"] == error, (code, result)
    assert [r["stdout"] for r in results if r["status"] == "ok"] == stdout
