"""Kernel environments: one virtual environment and one Jupyter kernel per framework.

MXNet 1.9 needs numpy<1.24 and TensorFlow 2.21 a newer one, so the frameworks cannot share an
environment. Each environment is built on demand from its requirements file, in a folder named by
that file's hash, and shared by every checkout of the book on the machine: a fresh clone reuses it,
and a changed pin builds a new one. Its kernelspec is (re)registered for the user, so that
JupyterLab, nbval and the build all find the kernel the notebooks name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir

from .notebooks import kernel_display_name, kernel_name
from .settings import Framework

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


def envs_root() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bookbuild" / "envs"
    return Path(os.environ.get("BOOKBUILD_ENVS", default))


def requirements_text(requirements: Path) -> str:
    """The pins that matter, without comments and blank lines, in a stable order."""
    lines = (line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines())
    return "\n".join(sorted(line for line in lines if line))


def fingerprint(requirements: Path) -> str:
    """What the outputs of a framework's cells depend on, besides the code: its pins and Python."""
    python = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return hashlib.sha256(f"{python}\n{requirements_text(requirements)}".encode()).hexdigest()[:16]


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
    log(f"creating the {name} environment in {env} (once per requirements file)")
    subprocess.run([sys.executable, "-m", "venv", str(partial)], check=True)
    pip = [str(python_of(partial)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(pip + ["-r", str(requirements)], check=True)
    (partial / ".complete").write_text(requirements_text(requirements) + "\n")
    shutil.rmtree(env, ignore_errors=True)
    partial.rename(env)
    return env


def kernelspec_dir(framework: Framework) -> Path:
    return Path(jupyter_data_dir()) / "kernels" / kernel_name(framework)


def ensure_kernel(framework: Framework, log=print) -> str:
    """Build the framework's environment if needed and point its kernelspec at it."""
    env = ensure_env(framework.name, framework.requirements, log)
    spec = {
        "argv": [str(python_of(env)), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": kernel_display_name(framework),
        "language": "python",
        "env": KERNEL_ENV,
        "metadata": {"debugger": True},
    }
    path = kernelspec_dir(framework) / "kernel.json"
    text = json.dumps(spec, indent=1, sort_keys=True) + "\n"
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return kernel_name(framework)
