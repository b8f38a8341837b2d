"""Kernel environments: one virtual environment and one Jupyter kernel per framework and device.

MXNet 1.9 needs numpy<1.24 and TensorFlow 2.21 a newer one, so the frameworks cannot share an
environment. Each environment is built on demand from its requirements file, in a folder named by
that file's hash, and shared by every checkout of the book on the machine: a fresh clone reuses it,
and a changed pin builds a new one. Its kernelspec is (re)registered for the user, so that
JupyterLab, nbval and the build all find the kernel the notebooks name.

The CPU kernels are the book's reference. A GPU kernel (`dlbook-<framework>-gpu`) runs the same
notebooks with its framework on the GPU (see gpu_kernel.py); its environment is several GB, so it
is built only on request, or taken from a Python that already has the framework's CUDA build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir

from .files import write_atomic
from .model import Diagnostic
from .notebooks import kernel_display_name, kernel_name
from .requirements import EnvironmentFile, read_environment
from .settings import ConfigError, Framework

# Same numbers on every CPU and every run: one thread (reductions in a fixed order), fixed hashing,
# TensorFlow without oneDNN's CPU-specific kernels and without its start-up chatter on stderr.
KERNEL_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
}

# GPU kernels add: float32 without TF32 on every framework (NVIDIA's switch for cuBLAS and cuDNN),
# TensorFlow taking GPU memory as needed rather than all of it, MXNet choosing cuDNN algorithms
# without timing them (timing is not repeatable, and it prints to stderr, which nbval compares).
GPU_KERNEL_ENV = {
    **KERNEL_ENV,
    "NVIDIA_TF32_OVERRIDE": "0",
    "TF_FORCE_GPU_ALLOW_GROWTH": "true",
    "MXNET_CUDNN_AUTOTUNE_DEFAULT": "0",
}
LAUNCHER = Path(__file__).with_name("gpu_kernel.py")


def envs_root() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bookbuild" / "envs"
    return Path(os.environ.get("BOOKBUILD_ENVS", default))


def requirements_text(requirements: Path) -> str:
    """The pins that matter, without comments and blank lines, in a stable order."""
    return read_environment(requirements).pins_text


def fingerprint(requirements: Path) -> str:
    """What the outputs of a framework's cells depend on, besides the code: the kernel environment's
    pins and Python (see requirements.py)."""
    return read_environment(requirements).fingerprint


def python_version(python: str) -> str | None:
    """The "3.11" of a Python interpreter, or None if it does not run (a pyenv shim of a Python
    that is not installed, say)."""
    try:
        found = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return None
    return found.stdout.strip() if found.returncode == 0 else None


def find_python(environment: EnvironmentFile) -> str:
    """An interpreter of the Python the environment file asks for: the toolchain's own, pythonX.Y on
    PATH, or one that uv knows; otherwise ConfigError saying what to install."""
    version = environment.python
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    candidates = [shutil.which(f"python{version}"), shutil.which("python3")]
    if uv := shutil.which("uv"):
        found = subprocess.run([uv, "python", "find", version], capture_output=True, text=True, check=False)
        candidates.append(found.stdout.strip() if found.returncode == 0 else None)
    for candidate in filter(None, candidates):
        if python_version(candidate) == version:
            return candidate
    raise ConfigError([Diagnostic(environment.path, None, (
        f"needs Python {version}, which is not on this machine: install python{version} (or uv, which "
        f"fetches it: `uv python install {version}`)"))])


def env_dir(name: str, requirements: Path) -> Path:
    return envs_root() / f"{name}-{fingerprint(requirements)}"


def python_of(env: Path) -> Path:
    return env / "bin" / "python"


def ensure_env(name: str, requirements: Path, log=print) -> Path:
    """The environment for ``requirements``, built first if it is missing or was left half-built."""
    env = env_dir(name, requirements)
    if (env / ".complete").exists():
        return env
    partial = env.with_name(env.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    environment = read_environment(requirements)
    python = find_python(environment)
    log(f"creating the {name} environment (Python {environment.python}) in {env} (once per requirements file)")
    # One retry, not pip's five: pip looks every package up in every source, so a source that this
    # machine cannot reach (PyTorch's index where its wheel is at hand anyway) costs seconds, not
    # minutes (README, "Locally").
    pip = [str(python_of(partial)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--retries", "1"]
    for step in ([python, "-m", "venv", str(partial)], pip + ["-r", str(requirements)]):
        if subprocess.run(step, check=False).returncode != 0:
            raise ConfigError([Diagnostic(environment.path, None, (
                f"could not create its environment: `{' '.join(step[:4])} …` failed (its messages are above)"))])
    (partial / ".complete").write_text(environment.pins_text + "\n")
    shutil.rmtree(env, ignore_errors=True)
    partial.rename(env)
    return env


def env_name(framework: Framework, device: str) -> str:
    """`pytorch` for the CPU environment (the name it always had), `pytorch-gpu` for the GPU one."""
    return framework.name if device == "cpu" else f"{framework.name}-{device}"


def requirements_of(framework: Framework, device: str) -> Path:
    return framework.requirements if device == "cpu" else framework.gpu_requirements


def external_python_variable(framework: Framework) -> str:
    return f"BOOKBUILD_{framework.name.upper()}_GPU_PYTHON"


def installed_python(framework: Framework, device: str) -> Path | None:
    """The kernel's Python if its environment exists; None if it would have to be built.

    For a GPU kernel, BOOKBUILD_<FRAMEWORK>_GPU_PYTHON may name a Python that already has the
    framework's CUDA build (a GPU machine without a package index): it is used as it is, pins unchecked.
    """
    variable = external_python_variable(framework)
    if device == "gpu" and os.environ.get(variable):
        python = Path(os.environ[variable])
        if not python.exists():
            raise ConfigError([Diagnostic(python, None, f"no such file (named by {variable})")])
        return python
    env = env_dir(env_name(framework, device), requirements_of(framework, device))
    return python_of(env) if (env / ".complete").exists() else None


def kernelspec_dir(framework: Framework, device: str = "cpu") -> Path:
    return Path(jupyter_data_dir()) / "kernels" / kernel_name(framework, device)


def kernelspec(framework: Framework, device: str, python: Path, folder: Path) -> dict:
    """A CPU kernel is plain ipykernel; a GPU kernel starts through the launcher copied into `folder`."""
    if device == "cpu":
        argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    else:
        argv = [str(python), str(folder / LAUNCHER.name), framework.name, "-f", "{connection_file}"]
    return {
        "argv": argv,
        "display_name": kernel_display_name(framework, device),
        "language": "python",
        "env": KERNEL_ENV if device == "cpu" else GPU_KERNEL_ENV,
        "metadata": {"debugger": True},
    }


def write_kernelspec(folder: Path, framework: Framework, device: str, python: Path) -> None:
    files = {"kernel.json": json.dumps(kernelspec(framework, device, python, folder), indent=1, sort_keys=True) + "\n"}
    if device != "cpu":
        files[LAUNCHER.name] = LAUNCHER.read_text()
    for name, text in files.items():
        path = folder / name
        if not path.exists() or path.read_text() != text:
            write_atomic(path, text)


def ensure_kernel(framework: Framework, log=print, device: str = "cpu", library: Path | None = None) -> str:
    """Build the framework's environment for `device` if needed and point its kernelspec at it.

    ``library``, the folder of the book's library (lib/), is linked into an environment built here
    (a .pth file, as an editable install makes), so that a notebook opened in JupyterLab imports
    the library of the checkout that last ran this. Builds and tests do not rely on it: they put
    their own checkout's library first on the kernel's path (library.kernel_environment)."""
    python = installed_python(framework, device)
    if python is None:
        python = python_of(ensure_env(env_name(framework, device), requirements_of(framework, device), log))
    write_kernelspec(kernelspec_dir(framework, device), framework, device, python)
    if library is not None:
        link_library(python, requirements_of(framework, device), library)
    return kernel_name(framework, device)


def link_library(python: Path, requirements: Path, library: Path) -> None:
    """Write ``<library name>.pth`` into the site-packages of an environment that envs_root() holds."""
    env = python.parent.parent
    if not env.is_relative_to(envs_root()) or not (env / ".complete").exists():
        return  # a Python of the machine's own (BOOKBUILD_<FRAMEWORK>_GPU_PYTHON): not ours to change
    site_packages = env / "lib" / f"python{read_environment(requirements).python}" / "site-packages"
    pth = site_packages / "bookbuild-library.pth"
    text = f"{library.resolve()}\n"
    if site_packages.is_dir() and (not pth.exists() or pth.read_text() != text):
        write_atomic(pth, text)
