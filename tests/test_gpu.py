"""GPU kernels: requirement files, kernelspecs, the launcher's refusal and random routing, the GPU
sanitizer and `make test-gpu`'s report. Most of it runs on any machine, in the CPU kernel
environments; the checks that need a GPU are skipped with their reason where none is visible.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel
from nbval.plugin import get_sanitize_patterns

from bookbuild import envs, nbval_run
from bookbuild.notebooks import kernel_display_name, kernel_name
from bookbuild.requirements import read_environment
from bookbuild.settings import ConfigError, Settings

REPO = Path(__file__).resolve().parent.parent
FRAMEWORKS = ["mxnet", "pytorch", "tensorflow"]


def pins(path: Path) -> dict[str, str]:
    """name -> exact version (with its local label) for every `name==version` line."""
    found = {}
    for line in envs.requirements_text(path).splitlines():
        if "==" in line:
            name, version = line.split("==")
            found[name] = version
    return found


def cpu_python(settings: Settings, name: str) -> Path:
    """The framework's CPU environment (built if missing, as `make test` would anyway)."""
    framework = settings.framework(name)
    return envs.python_of(envs.ensure_env(name, framework.requirements))


def run_in_kernel(kernel: str, cells: list[str]) -> list[dict]:
    """Run cells one by one in a fresh kernel: status, error name and message, and stdout of each."""
    manager, client = start_new_kernel(kernel_name=kernel, startup_timeout=180)
    try:
        results = []
        for code in cells:
            msg_id = client.execute(code)
            reply = client.get_shell_msg(timeout=180)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = client.get_shell_msg(timeout=180)
            stdout = []
            while True:
                message = client.get_iopub_msg(timeout=180)
                if message["parent_header"].get("msg_id") != msg_id:
                    continue
                if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
                    stdout.append(message["content"]["text"])
                if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                    break
            content = reply["content"]
            results.append({"status": content["status"], "ename": content.get("ename"),
                            "evalue": content.get("evalue", ""), "stdout": "".join(stdout)})
        return results
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


# --- requirement files --------------------------------------------------------------------------


def test_gpu_requirements_pin_the_cpu_releases_in_cuda_builds(settings):
    """A GPU run is compared with CPU outputs: same framework release, numpy and ipykernel."""
    torch_cpu, torch_gpu = (pins(settings.framework("pytorch").requirements),
                            pins(settings.framework("pytorch").gpu_requirements))
    assert re.fullmatch(r"\d+\.\d+\.\d+\+cu\d+", torch_gpu["torch"])
    assert torch_gpu["torch"].split("+")[0] == torch_cpu["torch"].split("+")[0]
    index = list(read_environment(settings.framework("pytorch").gpu_requirements).sources)
    assert index == [f"--extra-index-url https://download.pytorch.org/whl/{torch_gpu['torch'].split('+')[1]}"]
    # The CPU build likewise, from PyTorch's CPU index: an unlabelled torch==X is PyPI's CUDA build.
    assert torch_cpu["torch"].endswith("+cpu")
    assert read_environment(settings.framework("pytorch").requirements).sources == (
        "--extra-index-url https://download.pytorch.org/whl/cpu",)

    tf_cpu, tf_gpu = (pins(settings.framework("tensorflow").requirements),
                      pins(settings.framework("tensorflow").gpu_requirements))
    assert tf_gpu.pop("tensorflow[and-cuda]") == tf_cpu.pop("tensorflow-cpu")
    mx_cpu, mx_gpu = (pins(settings.framework("mxnet").requirements),
                      pins(settings.framework("mxnet").gpu_requirements))
    [cuda_build] = [name for name in mx_gpu if name.startswith("mxnet-cu11")]
    assert mx_gpu.pop(cuda_build) == mx_cpu.pop("mxnet")
    for cpu, gpu in ((torch_cpu, torch_gpu), (tf_cpu, tf_gpu), (mx_cpu, mx_gpu)):
        assert {k: v for k, v in gpu.items() if k != "torch"} == {k: v for k, v in cpu.items() if k != "torch"}


# --- kernelspecs --------------------------------------------------------------------------------


def test_kernelspecs_per_framework_and_device(settings, tmp_path):
    framework = settings.framework("pytorch")
    assert (kernel_name(framework), kernel_display_name(framework)) == ("dlbook-pytorch-cpu", "PyTorch (CPU)")
    assert (kernel_name(framework, "gpu"), kernel_display_name(framework, "gpu")) == \
        ("dlbook-pytorch-gpu", "PyTorch (GPU)")

    python = Path("/env/bin/python")
    envs.write_kernelspec(tmp_path / "cpu", framework, "cpu", python)
    cpu = json.loads((tmp_path / "cpu" / "kernel.json").read_text())
    assert cpu["argv"] == [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert cpu["env"] == envs.KERNEL_ENV and not (tmp_path / "cpu" / envs.LAUNCHER.name).exists()

    envs.write_kernelspec(tmp_path / "gpu", framework, "gpu", python)
    gpu = json.loads((tmp_path / "gpu" / "kernel.json").read_text())
    launcher = tmp_path / "gpu" / envs.LAUNCHER.name
    assert gpu["argv"] == [str(python), str(launcher), "pytorch", "-f", "{connection_file}"]
    assert gpu["display_name"] == "PyTorch (GPU)"
    assert gpu["env"]["NVIDIA_TF32_OVERRIDE"] == "0" and gpu["env"]["OMP_NUM_THREADS"] == "1"
    assert launcher.read_text() == envs.LAUNCHER.read_text()  # the framework env needs no bookbuild


def test_an_external_gpu_python_must_exist(settings, monkeypatch, tmp_path):
    framework = settings.framework("pytorch")
    monkeypatch.setenv("BOOKBUILD_ENVS", str(tmp_path))
    assert envs.installed_python(framework, "gpu") is None
    monkeypatch.setenv("BOOKBUILD_PYTORCH_GPU_PYTHON", str(tmp_path / "python3"))
    with pytest.raises(ConfigError, match="no such file \\(named by BOOKBUILD_PYTORCH_GPU_PYTHON\\)"):
        envs.installed_python(framework, "gpu")
    (tmp_path / "python3").touch()
    assert envs.installed_python(framework, "gpu") == tmp_path / "python3"


# --- the launcher, in the CPU environments (no GPU there, as on any CPU machine) ----------------


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_gpu_kernel_without_a_gpu_refuses_every_cell(settings, name, monkeypatch, tmp_path):
    """The GPU kernel started with the CPU build: no cell may run, each says why."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path))
    framework = settings.framework(name)
    envs.write_kernelspec(envs.kernelspec_dir(framework, "gpu"), framework, "gpu", cpu_python(settings, name))
    first, second = run_in_kernel(f"dlbook-{name}-gpu", ["x = 1\nprint('ran')", "print(x)"])
    for result in (first, second):
        assert result["status"] == "error" and result["ename"] == "GPUKernelError", result
        assert "no GPU" in result["evalue"] or "no CUDA device" in result["evalue"], result
        assert f"dlbook-{name}-cpu" in result["evalue"] and result["stdout"] == ""


ROUTING = """
import runpy, torch
start = runpy.run_path({launcher!r})
def draws():
    torch.manual_seed(0)
    torch.rand(3); torch.randn(2, 2); torch.nn.Linear(4, 3)
    torch.nn.functional.dropout(torch.ones(6), 0.5)
    torch.randperm(5, generator=torch.Generator().manual_seed(1))
    return torch.rand(2, device="cpu")
reference = draws()
torch.set_default_device("meta")  # a stand-in for "cuda": a device with a generator of its own
without = draws()
start["cpu_random_mode"]().__enter__()
routed = draws()
assert torch.rand(3).device.type == "meta" and torch.nn.Linear(2, 2).weight.device.type == "meta"
print(torch.equal(without, reference), torch.equal(routed, reference))
"""


def test_pytorch_gpu_kernel_draws_random_numbers_on_the_cpu_generator(settings):
    """With the mode on, draws for another device advance the CPU generator exactly as a CPU run."""
    python = cpu_python(settings, "pytorch")
    result = subprocess.run([str(python), "-c", ROUTING.format(launcher=str(envs.LAUNCHER))],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]  # without the mode the CPU generator is untouched


MXNET_ROUTING = """
import runpy, mxnet as mx
from mxnet import np, npx
npx.set_np()
start = runpy.run_path({launcher!r})
mx.random.seed(0)
reference = np.random.uniform(size=3).asnumpy()
contexts, uniform = [], np.random.uniform
def spy(low=0.0, high=1.0, size=None, dtype=None, ctx=None, out=None):  # records where it draws
    contexts.append(ctx)
    return uniform(low, high, size, dtype, ctx, out)
np.random.uniform = spy
start["route_mxnet_random_to_cpu"](np.random)
mx.random.seed(0)
with mx.cpu(1):  # a stand-in for mx.gpu(0): any context but the CPU generator's
    routed = np.random.uniform(size=3)
assert routed.ctx == mx.cpu(1) and contexts == [mx.cpu(0)], (routed.ctx, contexts)
print((routed.asnumpy() == reference).all(), np.random.normal.__wrapped__ is not None)
"""


def test_mxnet_gpu_kernel_draws_random_numbers_on_the_cpu_generator(settings):
    python = cpu_python(settings, "mxnet")
    result = subprocess.run([str(python), "-c", MXNET_ROUTING.format(launcher=str(envs.LAUNCHER))],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


# --- the GPU sanitizer --------------------------------------------------------------------------

SAME_VALUE = [  # (GPU output, CPU reference)
    ("tensor([-2., -1.,  0.,  1.,  2.], device='cuda:0')", "tensor([-2., -1.,  0.,  1.,  2.])"),
    ("tensor([0.5000], device='cuda:0', requires_grad=True)", "tensor([0.5000], requires_grad=True)"),
    ("device(type='cuda', index=0)", "device(type='cpu')"),
    ("cuda:0\n", "cpu\n"),
    ("'/job:localhost/replica:0/task:0/device:GPU:0'", "'/job:localhost/replica:0/task:0/device:CPU:0'"),
    ("array([1., 2.], ctx=gpu(0))", "array([1., 2.])"),
    ("[1. 2.] @gpu(0)\n[3. 4.] @gpu(0)", "[1. 2.]\n[3. 4.]"),
    ("\n[1. 2.]\n<NDArray 2 @gpu(0)>", "\n[1. 2.]\n<NDArray 2 @cpu(0)>"),
    ("gpu(0)", "cpu(0)"),
    # IPython breaks a tuple over lines when the device suffix makes it longer than a line
    ("(tensor([0, 1, 2, 3], device='cuda:0'),\n tensor([0., 0., 0., 0.], device='cuda:0'))",
     "(tensor([0, 1, 2, 3]), tensor([0., 0., 0., 0.]))"),
]
DIFFERENT_VALUE = [
    ("tensor([0.3990, 0.5167], device='cuda:0')", "tensor([0.4963, 0.7682])"),
    ("array([1., 2.], ctx=gpu(0))", "array([1., 3.])"),
    ("step  0, loss 6.1235", "step  0, loss 6.1234"),
]


def sanitize(text: str, patterns: list[tuple[str, str]]) -> str:
    for regex, replace in patterns:  # as nbval applies them
        text = re.sub(regex, replace, text)
    return text


def test_gpu_sanitizer_masks_devices_and_nothing_else():
    cpu = get_sanitize_patterns(nbval_run.sanitizer_text(REPO, "cpu"))
    gpu = get_sanitize_patterns(nbval_run.sanitizer_text(REPO, "gpu"))
    sections = sum(line.startswith("[") for line in (REPO / nbval_run.GPU_SANITIZER).read_text().splitlines())
    assert gpu[:len(cpu)] == cpu and len(gpu) == len(cpu) + sections  # no entry lost (a stripped "replace: ")
    for on_gpu, on_cpu in SAME_VALUE:
        assert sanitize(on_gpu, gpu) == sanitize(on_cpu, gpu), on_gpu
        assert sanitize(on_gpu, cpu) != sanitize(on_cpu, cpu), on_gpu  # CPU runs keep comparing devices
    for on_gpu, on_cpu in DIFFERENT_VALUE:
        assert sanitize(on_gpu, gpu) != sanitize(on_cpu, gpu), on_gpu


# --- make test-gpu's report ---------------------------------------------------------------------


def test_test_gpu_reports_frameworks_without_a_gpu_environment_as_not_tested(settings, monkeypatch, tmp_path,
                                                                               capsys):
    monkeypatch.setenv("BOOKBUILD_ENVS", str(tmp_path))  # no GPU environment there
    for name in FRAMEWORKS:
        monkeypatch.delenv(f"BOOKBUILD_{name.upper()}_GPU_PYTHON", raising=False)
    status = nbval_run.run_nbval(settings, FRAMEWORKS, [], device="gpu")
    out, err = capsys.readouterr()
    assert status == nbval_run.INCOMPLETE != 0
    for name in FRAMEWORKS:
        assert f"== nbval [{name}] on the GPU: NOT TESTED" in out
    assert "nbval on the GPU kernels: mxnet, pytorch, tensorflow NOT TESTED" in err
    assert "passed" not in out + err
    assert list(tmp_path.iterdir()) == []  # nothing was built


def test_summary_never_calls_an_untested_framework_passed():
    line = nbval_run.summary("gpu", ["pytorch"], ["mxnet"], ["tensorflow"])
    assert line == "nbval on the GPU kernels: pytorch passed; mxnet FAILED; tensorflow NOT TESTED"
    assert nbval_run.exit_status([], []) == 0
    assert nbval_run.exit_status(["mxnet"], ["tensorflow"]) == 1
    assert nbval_run.exit_status([], ["tensorflow"]) == nbval_run.INCOMPLETE


# --- on a GPU only ------------------------------------------------------------------------------


def visible_gpus() -> list[str]:
    """The NVIDIA GPUs that `nvidia-smi -L` lists (none where the tool or the driver is missing)."""
    if shutil.which("nvidia-smi") is None:
        return []
    result = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    return [line for line in result.stdout.splitlines() if line.startswith("GPU ")] if result.returncode == 0 else []


DEVICE_CHECKS = {
    "pytorch": ("import torch\ntorch.manual_seed(0)\n"
                "x = torch.rand(3); w = torch.nn.Linear(4, 2).weight\n"
                "d = torch.nn.functional.dropout(torch.ones(6), 0.5)\n"
                "print(x.device.type, w.device.type, d.device.type)\n"
                "print([round(v, 6) for v in x.tolist() + w.flatten().tolist() + d.tolist()])",
                "cuda cuda cuda"),
    "tensorflow": ("import tensorflow as tf\ntf.keras.utils.set_random_seed(0)\n"
                   "x = tf.random.uniform((3,)); w = tf.keras.initializers.RandomNormal(stddev=0.01)((2, 2))\n"
                   "print(x.device.split(':')[-2][-3:], w.device.split(':')[-2][-3:])\n"
                   "print([round(float(v), 6) for v in list(x.numpy()) + list(w.numpy().ravel())])",
                   "GPU GPU"),
    "mxnet": ("import mxnet as mx\nfrom mxnet import np, npx\nnpx.set_np()\nmx.random.seed(0)\n"
              "x = np.random.uniform(size=3); net = mx.gluon.nn.Dense(2, in_units=4); net.initialize()\n"
              "w = net.weight.data()\nprint(x.ctx.device_type, w.ctx.device_type)\n"
              "print([round(float(v), 6) for v in list(x.asnumpy()) + list(w.asnumpy().ravel())])",
              "gpu gpu"),
}


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_on_a_gpu_the_gpu_kernel_computes_there_with_the_cpu_random_numbers(settings, name):
    if not visible_gpus():
        pytest.skip("no CUDA device visible (nvidia-smi lists no GPU): this check runs only on a GPU machine")
    framework = settings.framework(name)
    if envs.installed_python(framework, "gpu") is None:
        pytest.skip(f"no {name} GPU environment: `make envs-gpu FRAMEWORK={name}` (docs/gpu.md)")
    code, devices = DEVICE_CHECKS[name]
    [gpu] = run_in_kernel(envs.ensure_kernel(framework, device="gpu"), [code])
    [cpu] = run_in_kernel(envs.ensure_kernel(framework), [code])
    assert gpu["status"] == cpu["status"] == "ok", (gpu, cpu)
    gpu_devices, gpu_values = gpu["stdout"].splitlines()
    _, cpu_values = cpu["stdout"].splitlines()
    assert gpu_devices == devices
    assert gpu_values == cpu_values  # the book's rule: the CPU generator's numbers on every device
