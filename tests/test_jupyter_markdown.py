"""The reader notebooks' markdown is what Jupyter renders: no MyST is left in any of them.

Each markdown cell is parsed as a CommonMark renderer parses it (markdown-it-py's CommonMark preset,
with GitHub's tables and ``$``/``$$`` math, as in JupyterLab and Colab), and the tokens are searched
for what only Sphinx understands and Jupyter would show as raw text: roles (MyST's
``{numref}`x``` and d2lbook's ``:numref:`x```), targets (``(label)=``), directives (```` ```{figure} ````,
``:::{note}``, block breaks) and labelled display math (``$$…$$ (label)``). The planted cases show
that each construct is found.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import REPO
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from bookbuild.build import read_book
from bookbuild.crossref import book_numbering
from bookbuild.render_jupyter import make_notebook

PARSER = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin, allow_labels=True)
ROLE_NAME = re.compile(r"(\{[\w:+-]+\}|:[a-z_]+:)$")  # right before the role's `content`
TARGET = re.compile(r"^\([^()\s]+\)=$")
COLON_FENCE = re.compile(r"^:{3,}\s*(\{[\w-]+\}.*)?$")


def myst_left(markdown: str) -> list[str]:
    """Every MyST (or d2lbook) construct in a cell's markdown, as "line N: what"."""
    found = []
    for token in PARSER.parse(markdown):
        line = token.map[0] + 1 if token.map else 0
        if token.type == "fence" and token.info.strip().startswith("{"):
            found.append(f"line {line}: directive {token.info.strip()}")
        elif token.type == "math_block_label":
            found.append(f"line {line}: labelled display math ({token.info})")
        elif token.type == "hr" and token.markup.startswith("+++"):
            found.append(f"line {line}: block break {token.markup}")
        elif token.type == "inline":
            found += [f"line {line + n}: {problem}" for n, problem in _inline(token)]
    return found


def _inline(token) -> list[tuple[int, str]]:
    found = []
    for number, text in enumerate(token.content.split("\n")):
        if TARGET.match(text.strip()):
            found.append((number, f"target {text.strip()}"))
        elif COLON_FENCE.match(text.strip()):
            found.append((number, f"directive {text.strip()}"))
        elif text.strip() == "+++":
            found.append((number, "block break +++"))
    children = token.children or []
    newlines = 0
    for child, following in zip(children, [*children[1:], None], strict=True):
        newlines += child.type in ("softbreak", "hardbreak")
        role = ROLE_NAME.search(child.content) if child.type == "text" else None
        if role and following is not None and following.type == "code_inline":
            found.append((newlines, f"role {role[1]}`{following.content}`"))
    return found


def notebook_problems(path: Path, root: Path = REPO) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(root)}: cell {index}, {problem}"
            for index, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "markdown"
            for problem in myst_left("".join(cell["source"]))]


@pytest.mark.parametrize("markdown, expected", [
    ("See {numref}`sec_layers`.", ["line 1: role {numref}`sec_layers`"]),
    ("As in\nequation {eq}`eq_sum`.", ["line 2: role {eq}`eq_sum`"]),
    ("d2lbook's :numref:`sec_layers` too.", ["line 1: role :numref:`sec_layers`"]),
    ("(sec_layers)=\n# Layers", ["line 1: target (sec_layers)="]),
    ("Text.\n\n(sec_layers)=", ["line 3: target (sec_layers)="]),
    ("```{figure} img/a.svg\n:name: fig_a\n\nA.\n```", ["line 1: directive {figure} img/a.svg"]),
    ("```{tableofcontents}\n```", ["line 1: directive {tableofcontents}"]),
    (":::{note}\nMind this.\n:::", ["line 1: directive :::{note}", "line 3: directive :::"]),
    ("$$a = b$$ (eq_ab)", ["line 1: labelled display math (eq_ab)"]),
    ("Text.\n\n+++\n\nMore.", ["line 3: block break +++"]),
])
def test_each_myst_construct_is_found(markdown, expected):
    assert myst_left(markdown) == expected


@pytest.mark.parametrize("markdown", [
    "A [Seção 1.1](model-construction.ipynb#sec_model_construction) e a [(1.5)](#eq_custom_dense).",
    '# <a id="sec_layers"></a>Layers',
    '<a id="eq_sum"></a>\n$$y = \\sum_i x_i\\tag{1.1}$$',
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "Inline code that shows the syntax: `{numref}` and `(label)=`.",
    "```markdown\nSee {numref}`sec_layers`.\n(sec_layers)=\n```",
    "Time: 12:30, ratio 1:2, and a dict `{'a': 1}`.",
])
def test_plain_jupyter_markdown_passes(markdown):
    assert myst_left(markdown) == []


def test_the_books_notebooks_carry_no_myst(settings):
    """Every committed notebook, and every notebook the chapters produce now."""
    committed = sorted((REPO / "notebooks").rglob("*.ipynb"))
    assert len(committed) >= 48
    problems = [problem for path in committed for problem in notebook_problems(path)]
    assert problems == [], "\n".join(problems)
    chapters = read_book(settings)
    numbering = book_numbering(chapters, settings)
    for chapter in chapters:
        for framework in settings.frameworks:
            for lang in settings.language_codes:
                notebook = make_notebook(chapter, lang, framework, settings, numbering)
                for cell in notebook.cells:
                    if cell.cell_type == "markdown":
                        assert myst_left(cell.source) == [], f"{chapter.name} [{lang}, {framework.name}]"


def test_a_planted_construct_fails_the_book_check(tmp_path):
    """The check reads the files themselves: a notebook with one role left in is reported."""
    source = REPO / "notebooks" / "pt" / "pytorch" / "deep-learning-computation" / "custom-layer.ipynb"
    notebook = json.loads(source.read_text(encoding="utf-8"))
    planted = tmp_path / "notebooks" / "pt" / "pytorch" / "custom-layer.ipynb"
    planted.parent.mkdir(parents=True)
    assert notebook_problems(source) == []
    markdown = next(cell for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    markdown["source"] = ["Veja a {numref}`sec_model_construction`.\n", *markdown["source"]]
    planted.write_text(json.dumps(notebook), encoding="utf-8")
    assert notebook_problems(planted, tmp_path) == [
        "notebooks/pt/pytorch/custom-layer.ipynb: cell 1, line 1: role {numref}`sec_model_construction`"]
