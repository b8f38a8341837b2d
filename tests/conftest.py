"""Shared fixtures: a tiny book in a temporary folder, with the real book's frameworks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from bookbuild import envs
from bookbuild.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def settings() -> Settings:
    """The book's own settings: languages en and pt, frameworks mxnet, pytorch and tensorflow."""
    return load_settings(REPO)


@pytest.fixture
def tiny_book(tmp_path: Path) -> Path:
    """A book root whose frameworks all run on the toolchain's own `python3` kernel, so that the
    cache and the execution can be tested in seconds."""
    return write_tiny_book(tmp_path)


def write_tiny_book(tmp_path: Path) -> Path:
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    for name, framework in config["bookbuild"]["frameworks"].items():
        requirements = tmp_path / "envs" / f"{name}.txt"
        requirements.parent.mkdir(exist_ok=True)
        requirements.write_text(f"# python: {sys.version_info.major}.{sys.version_info.minor}\n{name}==1.0\n")
        framework["requirements"] = str(requirements.relative_to(tmp_path))
        framework["setup"] = f"import random\nrandom.seed(0)\nFRAMEWORK = {name!r}\n"
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    for name in ("glossary.yml", "references.bib"):  # the files the book's settings name
        (tmp_path / name).write_bytes((REPO / name).read_bytes())
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: chapters/part/section\n")
    (tmp_path / "chapters").mkdir()
    return tmp_path


@pytest.fixture
def book(tiny_book: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """The tiny book with one chapter, chapters/part/section.md: the test module's ``SECTION``."""
    monkeypatch.setattr(envs, "ensure_kernel", lambda framework, log=print, device="cpu": "python3")
    section = tiny_book / "chapters" / "part" / "section.md"
    section.parent.mkdir(parents=True)
    section.write_text(request.module.SECTION)
    return tiny_book
