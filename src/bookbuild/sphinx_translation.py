"""Notices over passages whose translation is not done, and the ``lang`` of text in another language.

The MyST renderer (render_myst.py) writes, around such a passage,

````markdown
```{translation-notice} missing en
Este trecho ainda não foi traduzido… [Editar o capítulo](https://…)
```
… the passage, headings included …
```{translation-end}
```
````

The notice becomes a small note (``bb-translation bb-translation--missing``). When the passage's
text is in another language than the page (the second argument), every element up to the end
marker, headings included, gets the class ``language-<tag>``, which Sphinx's HTML writer turns into
``lang="<tag>"``: screen readers and browser translation then treat it as what it is. A directive
could not hold headings, hence the two markers and the walk over the finished doctree.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

STATES = ("missing", "draft", "stale")


class translation_start(nodes.Element):  # noqa: N801 - docutils names nodes in lower case
    """Where a passage in another language starts (removed once its elements are marked)."""


class translation_end(nodes.Element):  # noqa: N801
    """Where it ends."""


class TranslationNotice(SphinxDirective):
    """``translation-notice STATE LANG-TAG``: the note, then the start of the passage."""

    required_arguments = 2
    has_content = True

    def run(self) -> list[nodes.Node]:
        state, tag = self.arguments
        if state not in STATES:
            raise self.error(f"translation-notice: unknown state {state!r} (expected one of {', '.join(STATES)})")
        note = nodes.container(classes=["bb-translation", f"bb-translation--{state}"])
        self.state.nested_parse(self.content, self.content_offset, note)
        return [note, translation_start(lang=tag)]


class TranslationEnd(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        return [translation_end()]


def mark_languages(app: Sphinx, doctree: nodes.document) -> None:
    """Give every element between a start and an end marker the language of its text, when that
    is not the page's, then drop the markers."""
    page = app.config.language or "en"
    markers: list[nodes.Element] = []
    tag: str | None = None
    marked: set[int] = set()
    for node in list(doctree.findall(nodes.Element)):
        if isinstance(node, translation_start):
            markers.append(node)
            tag = node["lang"] if node["lang"].replace("-", "_").lower() != page.lower() else None
            continue
        if isinstance(node, translation_end):
            markers.append(node)
            tag = None
            continue
        if tag is None or isinstance(node, nodes.section | nodes.document):
            continue
        if any(id(parent) in marked for parent in _ancestors(node)):
            continue
        node["classes"].append(f"language-{tag}")
        marked.add(id(node))
    for marker in markers:
        marker.parent.remove(marker)


def _ancestors(node: nodes.Node):
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("translation-notice", TranslationNotice)
    app.add_directive("translation-end", TranslationEnd)
    app.add_node(translation_start)
    app.add_node(translation_end)
    app.connect("doctree-read", mark_languages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
