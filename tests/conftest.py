"""Shared fixtures: a tiny book in a temporary folder, with the real book's frameworks."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from bookbuild import envs
from bookbuild.build import build_notebooks, read_book
from bookbuild.schedule import Timings, timings_path
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


def python3_kernel(framework, log=print, device="cpu") -> str:
    """Stands for envs.ensure_kernel in the tiny books: every framework runs on `python3`."""
    return "python3"


def write_sections(root: Path, code: str, count: int) -> Path:
    """Sections chapters/part/s1.md to s<count>.md of a tiny book, listed in its _toc.yml: headings
    in both languages, then ``code`` (markdown with code cells; ``{n}`` is the section's number)."""
    for n in range(1, count + 1):
        path = root / "chapters" / "part" / f"s{n}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f":begin_lang:`en`\n# Section {n}\n:end_lang:\n\n:begin_lang:`pt`\n# Seção {n}\n:end_lang:\n\n"
                        + code.format(n=n))
    others = "".join(f"  - file: chapters/part/s{n}\n" for n in range(2, count + 1))
    toc = "format: jb-book\nroot: chapters/part/s1\n" + (f"chapters:\n{others}" if others else "")
    (root / "_toc.yml").write_text(toc)
    return root


def build_tiny_book(root: Path, code: str, count: int) -> Path:
    """A tiny book of ``count`` sections (see write_sections), built once, two kernels at a time."""
    write_sections(write_tiny_book(root), code, count)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(envs, "ensure_kernel", python3_kernel)
        settings = load_settings(root)
        report = build_notebooks(read_book(settings), settings, settings.notebooks_dir, jobs=2,
                                 timings=Timings.load(timings_path(settings)), log=lambda message: None)
    assert report.failures == [], report.failures
    return root


def copy_of(book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A test's own copy of a book built once, whose frameworks run on `python3`."""
    monkeypatch.setattr(envs, "ensure_kernel", python3_kernel)
    shutil.copytree(book, tmp_path / "book")
    return tmp_path / "book"


@pytest.fixture
def book(tiny_book: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """The tiny book with one chapter, chapters/part/section.md: the test module's ``SECTION``."""
    monkeypatch.setattr(envs, "ensure_kernel", python3_kernel)
    section = tiny_book / "chapters" / "part" / "section.md"
    section.parent.mkdir(parents=True)
    section.write_text(request.module.SECTION)
    return tiny_book
