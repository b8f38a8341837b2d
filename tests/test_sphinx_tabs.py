"""The tab-set extension, on a tiny Sphinx project built with myst-nb and sphinx-design."""

from __future__ import annotations

import io
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup, Tag
from sphinx.application import Sphinx
from sphinx.util.console import strip_escape_sequences
from sphinx.util.docutils import docutils_namespace, patch_docutils

CONF = """\
extensions = ["myst_nb", "sphinx_design", "bookbuild.sphinx_tabs"]
nb_execution_mode = "off"
exclude_patterns = ["_build"]
bookbuild_frameworks = [["mxnet", "MXNet"], ["pytorch", "PyTorch"], ["tensorflow", "TensorFlow"]]
bookbuild_solution_title = "Solução"
"""


def code(source: str, tags: list[str], output: str | None = None) -> nbformat.NotebookNode:
    outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)] if output else []
    cell = nbformat.v4.new_code_cell(source, outputs=outputs, execution_count=1 if output else None)
    cell.metadata["tags"] = tags
    return cell


def build(tmp_path: Path, cells: list[nbformat.NotebookNode]) -> tuple[BeautifulSoup, str]:
    """Build index.ipynb to HTML; return the page's article body and the build's warnings."""
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "conf.py").write_text(CONF)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {"language_info": {"name": "python"}}
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"
    nbformat.write(notebook, src / "index.ipynb")
    warnings = io.StringIO()
    with patch_docutils(str(src)), docutils_namespace():  # as sphinx-build does: no node clashes
        Sphinx(str(src), str(src), str(out), str(out / ".doctrees"), "html",
               status=None, warning=warnings, freshenv=True).build()
    page = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    body = page.find(attrs={"role": "main"}) or page.body
    assert isinstance(body, Tag)
    return BeautifulSoup(str(body), "html.parser"), strip_escape_sequences(warnings.getvalue())


def tabs(tab_set: Tag) -> list[tuple[str, str, str, Tag]]:
    """(label, sync group, sync id, content panel) per tab, checking sphinx-design's structure."""
    result = []
    for label in tab_set.find_all("label", recursive=False):
        tab_input = label.find_previous_sibling()
        panel = label.find_next_sibling()
        assert tab_input.name == "input" and tab_input["id"] == label["for"]
        assert tab_input["name"] == tab_set.find("input")["name"]
        assert "sd-tab-content" in panel["class"] and panel["id"] == label["aria-controls"]
        result.append((label.get_text(strip=True), label["data-sync-group"], label["data-sync-id"], panel))
    return result


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> BeautifulSoup:
    """One page with a full group, a group without TensorFlow, an ungrouped cell and a solution."""
    cells = [
        nbformat.v4.new_markdown_cell("# Page\n\nSome prose."),
        code("print('mx')", ["fw-mxnet", "group-1"], "out-mx\n"),
        code("print('pt')", ["fw-pytorch", "group-1"], "out-pt\n"),
        code("print('tf')", ["fw-tensorflow", "group-1"], "out-tf\n"),
        nbformat.v4.new_markdown_cell("Between the groups."),
        code("partial_mx = 1", ["fw-mxnet", "group-2"]),
        code("partial_pt = 2", ["fw-pytorch", "group-2"]),
        code("ungrouped = 3", []),
        nbformat.v4.new_markdown_cell("## Exercises"),
        code("solution_mx = 4", ["fw-mxnet", "group-3", "solution"]),
        code("solution_pt = 5", ["fw-pytorch", "group-3", "solution"]),
        code("solution_tf = 6", ["fw-tensorflow", "group-3", "solution"]),
    ]
    body, warnings = build(tmp_path_factory.mktemp("page"), cells)
    assert warnings == ""
    return body


def test_groups_become_synced_tab_sets(page: BeautifulSoup) -> None:
    tab_sets = page.select("div.sd-tab-set")
    assert len(tab_sets) == 3
    everything = [("MXNet", "mxnet"), ("PyTorch", "pytorch"), ("TensorFlow", "tensorflow")]
    for tab_set, expected in zip(tab_sets, [everything, everything[:2], everything], strict=True):
        found = tabs(tab_set)
        assert [(label, sync_id) for label, _, sync_id, _ in found] == expected
        assert {group for _, group, _, _ in found} == {"framework"}
        assert [i.has_attr("checked") for i in tab_set.find_all("input")] == [True] + [False] * (
            len(expected) - 1)
    names = [tab_set.find("input")["name"] for tab_set in tab_sets]
    assert len(set(names)) == 3


def test_sources_and_outputs_sit_in_their_tab(page: BeautifulSoup) -> None:
    full, partial, solution = page.select("div.sd-tab-set")
    for (label, _, sync_id, panel), short in zip(tabs(full), ["mx", "pt", "tf"], strict=True):
        cells = panel.select("div.cell")
        assert len(cells) == 1, label
        assert "tag_fw-" + sync_id in cells[0]["class"]
        assert cells[0].select_one("div.cell_input").get_text().strip() == f"print('{short}')"
        assert cells[0].select_one("div.cell_output").get_text().strip() == f"out-{short}"
    assert [panel.get_text().strip() for *_, panel in tabs(partial)] == ["partial_mx = 1", "partial_pt = 2"]
    assert [panel.get_text().strip() for *_, panel in tabs(solution)] == [
        "solution_mx = 4", "solution_pt = 5", "solution_tf = 6"]


def test_solution_is_a_closed_dropdown(page: BeautifulSoup) -> None:
    dropdowns = page.find_all("details")
    assert len(dropdowns) == 1
    (dropdown,) = dropdowns
    assert "sd-dropdown" in dropdown["class"] and not dropdown.has_attr("open")
    assert dropdown.find("summary").get_text(strip=True) == "Solução"
    assert dropdown.select("div.sd-tab-set") == [page.select("div.sd-tab-set")[2]]


def test_ungrouped_cell_and_prose_are_left_alone(page: BeautifulSoup) -> None:
    cells = [cell for cell in page.select("div.cell") if "ungrouped" in cell.get_text()]
    assert len(cells) == 1
    assert cells[0].find_parent("div", class_="sd-tab-set") is None
    prose = page.find("p", string="Between the groups.")
    assert prose is not None and prose.find_parent("div", class_="sd-tab-set") is None
    assert len(page.select("div.cell")) == 9


def test_contract_violations_warn_and_keep_the_cell(tmp_path: Path) -> None:
    cells = [
        code("a = 1", ["fw-mxnet", "group-1"]),
        code("b = 2", ["fw-jax", "group-1"]),
    ]
    body, warnings = build(tmp_path, cells)
    assert "group-1 has no known fw- tag" in warnings and warnings.count("WARNING") == 1
    (tab_set,) = body.select("div.sd-tab-set")
    assert [label for label, *_ in tabs(tab_set)] == ["MXNet"]
    stray = tab_set.find_next_sibling("div", class_="cell")
    assert stray is not None and "b = 2" in stray.get_text()
