"""Group a site notebook's tagged code cells into synchronised sphinx-design tab sets.

Notebook code cells cannot sit inside MyST ``tab-set`` directives, so the site assembler tags them
instead: ``fw-<framework>`` and ``group-<n>`` on every cell of a tab set, plus ``solution`` on the
cells of an exercise solution. After myst-nb has parsed a page, this transform moves each group's
cell containers into the very nodes that sphinx-design's ``tab-set``/``tab-item`` (and ``dropdown``)
directives produce, so that sphinx-design's own HTML post-transforms, CSS and JS render them and
keep every tab set of the ``framework`` sync group, prose tab sets included, on the same framework.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx_design.shared import create_component

LOGGER = logging.getLogger(__name__)

SYNC_GROUP = "framework"  # the assembler's prose tab sets use it too, so one click switches all


def _tags(node: nodes.Node) -> list[str]:
    """The notebook tags of a myst-nb code cell container; [] for any other node."""
    if isinstance(node, nodes.container) and node.get("nb_element") == "cell_code":
        return list(node.get("cell_metadata", {}).get("tags", []))
    return []


def _tag_value(node: nodes.Node, prefix: str) -> str | None:
    return next((tag.removeprefix(prefix) for tag in _tags(node) if tag.startswith(prefix)), None)


def _warn(message: str, node: nodes.Node) -> None:
    LOGGER.warning(f"{message} [bookbuild.tabs]", location=node, type="bookbuild", subtype="tabs")


def _tab_item(name: str, label: str, cell: nodes.Element) -> nodes.container:
    """What ``tab-item`` with ``:sync: <name>`` builds inside a ``:sync-group: framework`` set."""
    title = nodes.rubric(label, "", nodes.Text(label), classes=["sd-tab-label"],
                         sync_id=name, sync_group=SYNC_GROUP)
    content = create_component("tab-content", classes=["sd-tab-content"], children=[cell])
    return create_component("tab-item", classes=["sd-tab-item"], selected=False, children=[title, content])


def _dropdown(title: str, body: nodes.Element) -> nodes.container:
    """What a closed ``dropdown`` directive with a title builds, so a solution stays hidden."""
    return create_component(
        "dropdown", opened=False, type="dropdown", has_title=True, icon=None, chevron=None,
        container_classes=["sd-mb-3"], title_classes=[], body_classes=[],
        children=[nodes.rubric(title, "", nodes.Text(title)), body])


class FrameworkTabs(SphinxTransform):
    """Replace each run of consecutive sibling cells sharing a ``group-<n>`` tag by one tab set.

    It runs at read time, once myst-nb has built the cell containers, which is where the
    ``tab-set`` directive's nodes appear too: long before sphinx-design's HTML post-transforms
    (dropdown at priority 199, tab sets at 200) and myst-nb's (mime bundles at 4, hidden cells at
    199) run on the written page, wherever the cells then are.
    """

    default_priority = 500

    def apply(self, **kwargs: Any) -> None:
        runs: list[list[nodes.Element]] = []
        for cell in list(self.document.findall(lambda node: _tag_value(node, "group-") is not None)):
            last = runs[-1][-1] if runs else None
            if (last is not None and last.parent is cell.parent
                    and _tag_value(last, "group-") == _tag_value(cell, "group-")
                    and cell.parent.index(last) + 1 == cell.parent.index(cell)):
                runs[-1].append(cell)
            else:
                runs.append([cell])
        seen: set[str] = set()
        for run in runs:
            group = _tag_value(run[0], "group-") or ""
            if group in seen:
                _warn(f"cells of group-{group} are not consecutive: it becomes several tab sets", run[0])
            seen.add(group)
            self.replace(run)

    def replace(self, run: list[nodes.Element]) -> None:
        """One tab per configured framework, in configured order; stray cells stay plain, after it."""
        labels = {name: label for name, label in self.config.bookbuild_frameworks}
        order = list(labels)
        placed: dict[str, nodes.Element] = {}
        stray: list[nodes.Element] = []
        for cell in run:
            framework = _tag_value(cell, "fw-") or ""
            if framework not in labels or framework in placed:
                what = "no known fw- tag" if framework not in labels else f"a second fw-{framework} cell"
                _warn(f"group-{_tag_value(cell, 'group-')} has {what}: left out of the tab set", cell)
                stray.append(cell)
            else:
                placed[framework] = cell
        parent, index = run[0].parent, run[0].parent.index(run[0])
        for cell in run:
            parent.remove(cell)
        # A framework the section has no code for gets a tab that says so, so that a reader who
        # picked it sees why, rather than another framework's code under its name.
        gaps = [name for name in self.config.bookbuild_gaps.get(self.env.docname, []) if name in labels]
        for name in gaps:
            if name not in placed:
                note = self.config.bookbuild_framework_gap.format(framework=labels[name])
                placed[name] = nodes.paragraph(note, note, classes=["bb-framework-gap"])
        items = [_tab_item(name, labels[name], placed[name]) for name in sorted(placed, key=order.index)]
        tab_set = create_component("tab-set", classes=["sd-tab-set"], children=items)
        if any("solution" in _tags(cell) for cell in run):
            tab_set = _dropdown(self.config.bookbuild_solution_title, tab_set)
        tab_set.source, tab_set.line = run[0].source, run[0].line
        parent[index:index] = ([tab_set] if items else []) + stray


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx_design")
    app.add_config_value("bookbuild_frameworks", [], "env", types=[list])
    app.add_config_value("bookbuild_solution_title", "Solution", "env", types=[str])
    # Per page, the frameworks it has no code for; and the note their tabs show ("{framework}").
    app.add_config_value("bookbuild_gaps", {}, "env", types=[dict])
    app.add_config_value("bookbuild_framework_gap", "This section has no {framework} code yet.", "env",
                         types=[str])
    app.add_transform(FrameworkTabs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
