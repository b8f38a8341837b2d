"""Print, as JSON, the code cells d2lbook itself puts in each framework's notebook, or the code it
saves into each framework's library.

The reference side of ``tests/test_d2lbook_compat.py``. It must run with the python of the d2lbook
environment (``envs/d2lbook.txt``), because d2lbook pins Sphinx 5.3 and cannot share an environment
with our tools. Usage::

    python tests/d2lbook_reference.py FILE.md --tabs mxnet,pytorch,tensorflow

Output: ``{"cells": {tab: [code source, ...]}, "library": {tab: [saved block, ...]}}`` for every
tab, in the order given: the code cells of the tab's notebook, and the blocks ``d2lbook build lib``
writes into the tab's library file.
"""

from __future__ import annotations

import argparse
import json
import sys

from d2lbook import library, notebook


def tab_code_cells(markdown: str, tabs: list[str]) -> dict[str, list[str] | None]:
    """The code cells of each tab's notebook, or None where d2lbook writes no notebook.

    These are the calls ``d2lbook build eval --tab TAB`` makes (``build._process_and_eval_notebook``),
    in its order; the first tab is the default one, as in d2lbook's ``config.ini``.
    """
    cells: dict[str, list[str] | None] = {}
    for tab in tabs:
        # Read afresh for every tab, as d2lbook does: get_tab_notebook writes into the notebook.
        nb = notebook.split_markdown_cell(notebook.read_markdown(markdown))
        tab_nb = notebook.get_tab_notebook(nb, tab, tabs[0])
        if tab_nb is None:
            cells[tab] = None
            continue
        cells[tab] = [_normalise(c.source) for c in tab_nb.cells if c.cell_type == "code"]
    return cells


def _normalise(source: str) -> str:
    """Drop trailing spaces on each line and blank lines around the cell.

    d2lbook's build does this too, in ``library.format_code_nb`` right after ``get_tab_notebook``;
    we do not call that function because it also sorts the imports with isort, which is
    formatting, not the assignment of cells to tabs that this test is about. get_tab_notebook
    itself removes the ``#@tab`` (or ``%%tab``) line, so nothing else needs normalising.
    """
    return "\n".join(line.rstrip() for line in source.split("\n")).strip("\n")


def tab_saved_blocks(path: str, tabs: list[str]) -> dict[str, list[str]]:
    """The blocks d2lbook's library step saves for each tab, in order: ``library.save_tab`` calls
    ``library._save_code`` on each file for the tab, then writes the blocks, after adding a "Defined
    in" line to docstrings (``_refactor_blocks``), which is presentation. Its ``format_code`` sorts
    imports with isort; as for the cells, only that formatting is left out (see ``_normalise``)."""
    library.format_code = lambda source: _normalise(source).strip()
    return {tab: [block for block, _label, _file in library._save_code(path, tab=tab, default_tab=tabs[0])]
            for tab in tabs}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("file")
    parser.add_argument("--tabs", required=True, help="comma-separated; the first is the default")
    args = parser.parse_args()
    tabs = [tab.strip() for tab in args.tabs.lower().split(",")]  # as d2lbook's Config reads them
    with open(args.file, encoding="utf-8") as f:
        markdown = f.read()
    cells = tab_code_cells(markdown, tabs)
    for tab, sources in cells.items():
        if sources is None:
            # get_tab_notebook returned None: d2lbook writes an empty file, no notebook at all.
            print(f"d2lbook writes no notebook for tab {tab!r}", file=sys.stderr)
    json.dump({"cells": {tab: sources or [] for tab, sources in cells.items()},
               "library": tab_saved_blocks(args.file, tabs)}, sys.stdout, ensure_ascii=False, indent=1)
    print()


if __name__ == "__main__":
    main()
