"""Shared fixtures: a tiny book in a temporary folder, with the real book's frameworks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

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
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    for name, framework in config["bookbuild"]["frameworks"].items():
        requirements = tmp_path / "envs" / f"{name}.txt"
        requirements.parent.mkdir(exist_ok=True)
        requirements.write_text(f"{name}==1.0\n")
        framework["requirements"] = str(requirements.relative_to(tmp_path))
        framework["setup"] = f"import random\nrandom.seed(0)\nFRAMEWORK = {name!r}\n"
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: chapters/part/section\n")
    (tmp_path / "chapters").mkdir()
    return tmp_path
