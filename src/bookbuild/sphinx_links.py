"""Links between chapters, as d2lbook books write them: ``[the appendix](../appendix/index.md)``.

The link names the chapter's source file, but an edition's page is built from a notebook
(``index.ipynb``), so MyST finds no file there and warns. This post-transform runs just before
MyST resolves its references, and points each such link at the page built from that chapter.
``check`` has already made sure that the file is a chapter (buildable.check_links).
"""

from __future__ import annotations

import posixpath
from typing import Any

from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform


class ChapterLinks(SphinxPostTransform):
    default_priority = 8  # MyST's MystReferenceResolver is 9

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(addnodes.pending_xref)):
            if node.get("reftype") != "myst" or node.get("refdomain") is not None:
                continue
            path, _, anchor = str(node["reftarget"]).partition("#")
            if not path.endswith(".md"):
                continue
            refdoc = node.get("refdoc", self.env.docname)
            base = path[1:] if path.startswith("/") else posixpath.join(posixpath.dirname(refdoc), path)
            docname = posixpath.normpath(base)[: -len(".md")]
            if docname in self.env.all_docs:
                node["refdomain"], node["reftarget"], node["reftargetid"] = "doc", docname, anchor or None


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_post_transform(ChapterLinks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


