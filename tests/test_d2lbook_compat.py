"""Differential test: plain d2lbook chapters get exactly the code cells d2lbook gives each framework,
and the book's library gets exactly the code that d2lbook's library step saves for it (`#@save`).

The reference is d2lbook 1.0.3 itself, run by ``tests/d2lbook_reference.py`` in an environment of
its own (``envs/d2lbook.txt``; d2lbook pins Sphinx 5.3), whose python ``D2LBOOK_PYTHON`` names.
The fixtures are chapters in plain d2lbook dialect, English-only or Portuguese-only.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import subprocess
from pathlib import Path

import pytest

from bookbuild.library import saved_code
from bookbuild.read import read_chapter
from bookbuild.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "d2lbook_reference.py"
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "d2lbook").glob("*.md"))

Assignment = dict[str, list[str]]  # framework -> the sources of its code cells, in order


def d2lbook_python() -> str:
    """The reference environment's python; its absence fails, so the test cannot pass unseen."""
    python = os.environ.get("D2LBOOK_PYTHON")
    if not python:
        pytest.fail(
            "D2LBOOK_PYTHON is not set: run `make test` (or `make unit`), or set it to the python of an "
            "environment built from envs/d2lbook.txt",
            pytrace=False,
        )
    return python


def d2lbook_assignment(path: Path, frameworks: tuple[str, ...], library: bool = False) -> tuple[Assignment, str]:
    """What d2lbook assigns (or, with ``library``, saves), and its notes (e.g. a tab it writes no
    notebook for)."""
    found, notes = _d2lbook(path, frameworks)
    return found["library" if library else "cells"], notes


@functools.cache
def _d2lbook(path: Path, frameworks: tuple[str, ...]) -> tuple[dict[str, Assignment], str]:
    """One run of the reference per fixture, for both tests."""
    result = subprocess.run(
        [d2lbook_python(), str(REFERENCE), str(path), "--tabs", ",".join(frameworks)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"d2lbook could not read {path.name}:\n{result.stderr}", pytrace=False)
    return json.loads(result.stdout), result.stderr.strip()


def without_trailing_spaces(source: str) -> str:
    """d2lbook's build strips trailing spaces from code (the reference does too); they do not
    change which cells a framework gets, so ours are compared without them as well."""
    return "\n".join(line.rstrip() for line in source.split("\n"))


def compare(d2lbook: Assignment, ours: Assignment) -> str:
    """A readable diff of the two assignments, one cell per line, per framework; "" if equal."""
    report = []
    for framework in dict.fromkeys([*d2lbook, *ours]):
        expected, actual = d2lbook.get(framework, []), ours.get(framework, [])
        if expected != actual:
            report.append(f"{framework}: d2lbook has {len(expected)} cell(s), ours {len(actual)}")
            report.extend(
                difflib.unified_diff(
                    [repr(s) for s in expected],
                    [repr(s) for s in actual],
                    "d2lbook",
                    "bookbuild",
                    lineterm="",
                    n=1,
                )
            )
    return "\n".join(report)


def test_there_are_fixtures() -> None:
    """An empty fixture folder would make the differential test vacuous."""
    assert len(FIXTURES) >= 4


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_same_code_cells_as_d2lbook(path: Path, settings: Settings) -> None:
    """The requirement: a plain d2lbook file converts without error, with d2lbook's cells.

    ``settings`` is conftest's: the book's own frameworks, mxnet first as d2lbook's default tab.
    """
    frameworks = settings.framework_names
    d2lbook, notes = d2lbook_assignment(path, frameworks)
    chapter = read_chapter(path, settings)
    ours = {fw: [without_trailing_spaces(c.source) for c in chapter.code_cells(fw)] for fw in frameworks}
    problems = [f"diagnostic: {d}" for d in chapter.diagnostics]
    if difference := compare(d2lbook, ours):
        problems.append(difference)
        if notes:
            problems.append(f"d2lbook says: {notes}")
    if problems:
        pytest.fail(f"{path.name} differs from d2lbook:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_same_saved_code_as_d2lbook(path: Path, settings: Settings) -> None:
    """`#@save`: the blocks our library collects for each framework are the blocks d2lbook's library
    step (`d2lbook build lib`) writes into that framework's library file, in the same order."""
    frameworks = settings.framework_names
    d2lbook, _ = d2lbook_assignment(path, frameworks, library=True)
    ours = {fw: [block.code for block in saved_code([read_chapter(path, settings)], fw)] for fw in frameworks}
    if difference := compare(d2lbook, ours):
        pytest.fail(f"{path.name}: the saved code differs from d2lbook's:\n{difference}", pytrace=False)


def test_the_saved_code_fixtures_cover_functions_classes_and_whole_cells_in_every_framework(settings) -> None:
    """Otherwise the test above could pass on fixtures that save too little to tell anything."""
    kinds: dict[str, set[str]] = {fw: set() for fw in settings.framework_names}
    for path in FIXTURES:
        chapter = read_chapter(path, settings)
        for fw in settings.framework_names:
            for block in saved_code([chapter], fw):
                first = block.cell.source.splitlines()[0].strip()
                kinds[fw].add("cell" if first == "#@save" else block.code.split()[0])
    assert all({"cell", "def", "class"} <= found for found in kinds.values()), kinds


def test_comparison_catches_a_cell_given_to_the_wrong_framework() -> None:
    """The differential test must be able to fail: one cell moved to another framework shows."""
    d2lbook = {"mxnet": ["a = 1"], "pytorch": ["b = 2", "c = 3"]}
    moved = {"mxnet": ["a = 1", "b = 2"], "pytorch": ["c = 3"]}
    assert compare(d2lbook, d2lbook) == ""
    report = compare(d2lbook, moved)
    assert "mxnet: d2lbook has 1 cell(s), ours 2" in report
    assert "pytorch: d2lbook has 2 cell(s), ours 1" in report
    assert "+'b = 2'" in report and "-'b = 2'" in report
