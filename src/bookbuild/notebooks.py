"""The notebook files both renderers write: kernels, cells, ids, and reading and writing them.

Everything here is deterministic, so that a rebuild is byte-identical and git shows no churn: ids
come from content, no timestamps, fixed metadata. What goes into the notebooks is the renderers'
business: render_jupyter for the notebooks readers run, render_myst for the editions' sources.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .files import write_atomic
from .settings import Framework

# language_info without the Python patch version, which differs from machine to machine.
LANGUAGE_INFO = {
    "name": "python",
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}


# A Colab form title, the first line of the setup cell: a comment, in the notebook's language.
FORM_TITLE = re.compile(r"#@title\b[^\n]*(?:\n|$)")
# The kernel learns the reader's language from this variable, which the setup cell sets: the book's
# plots label their axes and describe themselves in it (see execute.py on sections whose outputs
# depend on the language).
LANGUAGE_VARIABLE = "DLBOOK_LANGUAGE"
LANGUAGE_LINE = re.compile(rf'^os\.environ\["{LANGUAGE_VARIABLE}"\] = "[^"]*".*\n', re.MULTILINE)


def code_only(source: str) -> str:
    """A cell's code without the form title that only names it and the line that tells the kernel
    the notebook's language: what runs, the same in every language. The cells' ids are computed
    from it, so that a cell has the same id in every language."""
    source = source[title.end():] if (title := FORM_TITLE.match(source)) else source
    return LANGUAGE_LINE.sub("", source, count=1)


def kernel_name(framework: Framework, device: str = "cpu") -> str:
    """The notebooks name the CPU kernel; `make test-gpu` runs them on the GPU one instead."""
    return f"dlbook-{framework.name}-{device}"


def kernel_display_name(framework: Framework, device: str = "cpu") -> str:
    return f"{framework.display_name} ({device.upper()})"


def new_cell(cell_type: str, source: str) -> NotebookNode:
    """A cell as nbformat's ``new_*_cell`` makes it, without their check of each cell against the
    schema, which dominates the time to write a long chapter: ``dumps`` checks the whole notebook."""
    cell = {"cell_type": cell_type, "id": "", "metadata": {}, "source": source}
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return nbformat.from_dict(cell)


def new_notebook(cells: list[NotebookNode], metadata: dict) -> NotebookNode:
    return nbformat.from_dict({"nbformat": nbformat.v4.nbformat, "nbformat_minor": nbformat.v4.nbformat_minor,
                               "metadata": metadata, "cells": cells})


def assign_ids(cells: list[NotebookNode]) -> None:
    """Ids from content, so that the same cell has the same id in every build and language."""
    seen: dict[str, int] = {}
    for cell in cells:
        source = code_only(cell.source) if cell.cell_type == "code" else cell.source
        digest = hashlib.sha256(f"{cell.cell_type}\n{source}".encode()).hexdigest()[:8]
        prefix = "code" if cell.cell_type == "code" else "md"
        seen[digest] = seen.get(digest, 0) + 1
        cell["id"] = f"{prefix}-{digest}" + (f"-{seen[digest]}" if seen[digest] > 1 else "")


def dumps(notebook: NotebookNode) -> str:
    """The notebook's file content, once it is checked against the notebook schema."""
    nbformat.validate(notebook)
    return _text(notebook)


def _text(notebook: NotebookNode) -> str:
    return nbformat.v4.writes_json(notebook) + "\n"  # nbformat.writes would check it again


def save(notebook: NotebookNode, path: Path) -> bool:
    """Write atomically, and only if something changed; returns whether the file changed.

    A reader never sees a half-written notebook, and an interrupted build leaves the old one. The
    notebook is validated only when it is written: an unchanged one was valid when it was.
    """
    text = _text(notebook)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    nbformat.validate(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    return True


def load(path: Path) -> NotebookNode | None:
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return None
