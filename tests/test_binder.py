"""binder/, checked without Binder: its files name only files that exist, and postBuild, run with a
stand-in for Python that records what it is asked to do, builds one environment per framework from
the framework's envs/ requirements and registers the kernel the notebooks name, set up as
`make envs` sets it up."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
from conftest import REPO

from bookbuild.envs import KERNEL_ENV
from bookbuild.notebooks import kernel_display_name, kernel_name

BINDER = REPO / "binder"

# Records its arguments; `-m venv DIR` makes DIR/bin/python a copy of itself, as a venv would.
STAND_IN = """#!{python}
import json, os, shutil, sys
with open(os.environ["CALLS"], "a") as log:
    log.write(json.dumps(sys.argv) + "\\n")
if sys.argv[1:3] == ["-m", "venv"]:
    os.makedirs(os.path.join(sys.argv[3], "bin"))
    shutil.copy(sys.argv[0], os.path.join(sys.argv[3], "bin", "python"))
"""


def test_binder_runs_the_jupyterlab_the_tests_run():
    """Readers on Binder get the JupyterLab release that tests/test_jupyterlab.py opens the notebooks in."""
    def pin(path: Path) -> list[str]:
        return re.findall(r"^jupyterlab==(\S+)$", path.read_text(), re.MULTILINE)

    assert pin(BINDER / "requirements.txt") == pin(REPO / "envs" / "jupyterlab.txt") != []


def test_binder_uses_python_311_and_names_only_existing_files():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"  # MXNet 1.9 needs it
    assert os.access(BINDER / "postBuild", os.X_OK)
    mentioned = set()
    for path in BINDER.iterdir():
        text = re.sub(r"https?://\S+", "", path.read_text())
        mentioned |= set(re.findall(r"(?<![\w./-])((?:[\w.-]+/)+[\w.-]+\.\w+)", text))
    assert "envs/mxnet-cpu.txt" in mentioned
    missing = [name for name in sorted(mentioned) if not (REPO / name).exists()]
    assert missing == [], f"binder/ names files that do not exist: {missing}"
    # The CPU build of PyTorch comes from the index its envs/ file names, as in `make envs` and CI.
    assert not any("PIP_" in path.read_text() or "download.pytorch.org" in path.read_text()
                   for path in BINDER.iterdir())
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        assert not line or re.fullmatch(r"[A-Za-z0-9_.-]+==[\w.]+", line), f"unpinned: {line}"


def test_postbuild_makes_the_kernels_the_notebooks_name(settings, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(STAND_IN.format(python=sys.executable))
    (bin_dir / "python").chmod(0o755)
    calls = tmp_path / "calls.jsonl"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path / "home"),
           "CALLS": str(calls)}
    subprocess.run(["bash", str(BINDER / "postBuild")], cwd=REPO, env=env, check=True)
    commands = [json.loads(line) for line in calls.read_text().splitlines()]

    kernels = {}
    for command in commands:
        program, *args = command
        if args[:2] == ["-m", "venv"]:
            continue
        env_dir = Path(program).parent.parent
        if args[:3] == ["-m", "pip", "install"] and "-r" in args:
            requirements = args[args.index("-r") + 1]
            assert (REPO / requirements).is_file()
            kernels.setdefault(env_dir, {})["requirements"] = requirements
        elif args[:3] == ["-m", "pip", "install"]:
            # The book's library, from the folder _config.yml names, which pip can build.
            library = args[-1]
            assert Path(library) == Path(settings.library.path) and (REPO / library / "pyproject.toml").is_file()
            kernels.setdefault(env_dir, {})["library"] = library
        elif args[:3] == ["-m", "ipykernel", "install"]:
            assert "--user" in args
            pairs = [args[i + 1:i + 3] for i, arg in enumerate(args) if arg == "--env"]
            kernels.setdefault(env_dir, {}).update(
                name=args[args.index("--name") + 1], display=args[args.index("--display-name") + 1],
                env=dict(pairs))
        else:
            raise AssertionError(f"unexpected command {command}")
    # Each environment was created before anything ran in it.
    created = [Path(c[3]) for c in commands if c[1:3] == ["-m", "venv"]]
    assert sorted(created) == sorted(kernels)

    expected = {kernel_name(f): (kernel_display_name(f), f.requirements.relative_to(REPO).as_posix())
                for f in settings.frameworks}
    assert {k["name"]: (k["display"], k["requirements"]) for k in kernels.values()} == expected
    assert all("library" in k for k in kernels.values())  # every kernel can import dlbook
    assert all(k["env"] == KERNEL_ENV for k in kernels.values())  # the numbers the book prints
    in_notebooks = {nbformat.read(path, as_version=4).metadata.kernelspec.name
                    for path in (REPO / "notebooks").rglob("*.ipynb")}
    assert in_notebooks == set(expected)
