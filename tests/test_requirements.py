"""Kernel environment files: one reader (packaging's), the Python each environment needs, and a
cache key that depends on that Python, not on the toolchain's."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest

from bookbuild import envs
from bookbuild.build import stale_notebooks
from bookbuild.check import read_book
from bookbuild.render_jupyter import colab_packages, pinned_release
from bookbuild.requirements import read_environment
from bookbuild.settings import ConfigError

TOOLCHAIN = f"{sys.version_info.major}.{sys.version_info.minor}"


def environment(tmp_path: Path, text: str):
    path = tmp_path / "kernel.txt"
    path.write_text(text)
    return read_environment(path, tmp_path)


def test_pins_options_and_python_are_read_as_pip_reads_them(tmp_path):
    env = environment(tmp_path, "# Kernel\n# python: 3.11\n--extra-index-url  https://example.org/simple\n"
                                "torch == 2.13.0+cpu  # the CPU build\nnumpy>=1.0,<2\n"
                                "keras[jax]==3.1 ; python_version >= '3.9'\n")
    assert env.python == "3.11"
    assert [str(r) for r in env.requirements] == [
        "torch==2.13.0+cpu", "numpy<2,>=1.0", 'keras[jax]==3.1; python_version >= "3.9"']
    assert env.sources == ("--extra-index-url https://example.org/simple",) and env.options == ()
    assert env.pinned_version("Torch") == "2.13.0+cpu" and env.pinned_version("numpy") is None


def test_the_fingerprint_ignores_comments_spacing_order_and_package_sources(tmp_path):
    one = environment(tmp_path, "# python: 3.11\nb==2\na==1\n").fingerprint
    assert environment(tmp_path, "# A comment\n# python: 3.11\n\na == 1\nb==2   # pinned\n").fingerprint == one
    assert environment(tmp_path, "# python: 3.11\n--extra-index-url https://x.org\na==1\nb==2\n").fingerprint == one
    assert environment(tmp_path, "# python: 3.11\n--prefer-binary\na==1\nb==2\n").fingerprint != one
    assert environment(tmp_path, "# python: 3.12\na==1\nb==2\n").fingerprint != one
    assert environment(tmp_path, "# python: 3.11\na==1\nb==3\n").fingerprint != one


def test_the_book_keeps_its_cache_keys(settings):
    """The committed notebooks were executed under these keys: a reader that changed them would
    re-execute the whole book. (matplotlib, added for the book's plots, changed all three once.)"""
    assert {f.name: envs.fingerprint(f.requirements) for f in settings.frameworks} == {
        "mxnet": "7abe9999ac46a108", "pytorch": "fa7bae496bc1b5ed", "tensorflow": "acbdcb298846c039"}


def test_every_environment_file_of_the_book_names_its_python():
    for path in sorted(Path(__file__).resolve().parent.parent.glob("envs/*.txt")):
        assert read_environment(path).python == "3.11", path.name  # MXNet 1.9.1 needs 3.11; all share it


def test_the_colab_pins_come_from_the_same_reader(settings):
    assert colab_packages(settings.framework("tensorflow")) == ["tensorflow==2.21.0", "keras==3.15.1", "numpy==2.4.6",
                                                                "matplotlib==3.10.9"]
    assert pinned_release(settings.framework("mxnet")) == "MXNet 1.9.1"


def test_a_toolchain_on_another_python_finds_every_notebook_fresh(settings, monkeypatch):
    """On a machine whose `python3` is 3.12 (with 3.11 for the kernels), nothing is re-executed."""
    version = namedtuple("version", "major minor micro releaselevel serial")
    monkeypatch.setattr(sys, "version_info", version(3, 12, 1, "final", 0))
    assert stale_notebooks(read_book(settings), settings) == []


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ("numpy==1.0\n", None, "says no Python version"),
    ("# python: three\nnumpy==1.0\n", 1, "wants a version such as 3.11"),
    ("# python: 3.11\nnumpy===\n", 2, "not a requirement pip understands"),
    ("# python: 3.11\n-e .\n", 2, "pip option '-e' is not supported"),
])
def test_a_broken_environment_file_is_named_with_its_line(tmp_path, text, line, fragment):
    with pytest.raises(ConfigError) as error:
        environment(tmp_path, text)
    (problem,) = error.value.diagnostics
    assert (str(problem.path), problem.line) == ("kernel.txt", line) and fragment in problem.message


def fake_python(folder: Path, name: str, version: str | None) -> None:
    """A `name` on PATH that reports `version`, or fails as a pyenv shim of a missing Python does."""
    script = folder / name
    body = f"print('{version}')" if version else "raise SystemExit(127)"
    script.write_text(f"#!{sys.executable}\n{body}\n")
    script.chmod(0o755)


def test_the_python_an_environment_needs_is_found_or_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    own = environment(tmp_path, f"# python: {TOOLCHAIN}\n")
    assert envs.find_python(own) == sys.executable
    fake_python(tmp_path, "python3.97", "3.97")
    assert envs.find_python(environment(tmp_path, "# python: 3.97\n")) == str(tmp_path / "python3.97")
    fake_python(tmp_path, "python3.98", None)  # installed in name only
    with pytest.raises(ConfigError, match=r"needs Python 3\.98, which is not on this machine: install python3\.98"):
        envs.find_python(environment(tmp_path, "# python: 3.98\n"))


def other_python() -> str | None:
    """A real interpreter of another minor version than the toolchain's, if the machine has one."""
    for candidate in sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.*/bin/python3.*"))) + [
            f"/usr/bin/python3.{minor}" for minor in range(9, 15)]:
        if not candidate.endswith("-config") and envs.python_version(candidate) not in (None, TOOLCHAIN):
            return candidate
    return None


@pytest.mark.skipif(other_python() is None, reason="no Python of another minor version on this machine")
def test_an_environment_is_built_with_the_python_its_file_names(tmp_path, monkeypatch):
    python = other_python()
    assert python is not None
    version = envs.python_version(python)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / f"python{version}").symlink_to(python)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("BOOKBUILD_ENVS", str(tmp_path / "envs"))
    requirements = tmp_path / "kernel.txt"
    requirements.write_text(f"# python: {version}\n")
    env = envs.ensure_env("kernel", requirements, log=lambda _: None)
    built = subprocess.run([str(envs.python_of(env)), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True, check=True)
    assert built.stdout.strip() == version != TOOLCHAIN
