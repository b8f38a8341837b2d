"""Sphinx forgets warnings: a rebuild re-reads only the pages whose source changed, so the
warnings of a page that failed the last build are not raised again, and with ``-W`` the second
build of a broken page passes. This extension remembers which pages warned, and makes Sphinx
read them again on the next build, so that a broken page fails every build until it is fixed.

The record is a small JSON file beside Sphinx's environment (``<doctrees>/bookbuild-warned.json``):
the pages that warned, and whether a warning could not be tied to a page (then every page is read
again). It is written when a build ends, also a failed one; a build that stops half-way keeps the
previous record plus what it saw.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging as sphinx_logging

RECORD = "bookbuild-warned.json"


class WarnedPages(logging.Filter):
    """Notes where each warning is, after Sphinx has turned its location into ``path:line``; it
    lets every record through."""

    def __init__(self, app: Sphinx, previous: dict[str, Any]) -> None:
        super().__init__()
        self.app = app
        self.docs: set[str] = set()
        self.everything = False
        self.previous = previous

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            docname = self.docname(getattr(record, "location", None))
            if docname is None:
                self.everything = True
            else:
                self.docs.add(docname)
        return True

    def docname(self, location: object) -> str | None:
        if not isinstance(location, str) or not location:
            return None
        path, _, line = location.rpartition(":")
        if not (path and line.isdigit()):
            path = location
        try:
            return self.app.env.path2doc(os.path.abspath(path))
        except Exception:  # a location Sphinx's project does not know (a bibliography file, say)
            return None


def _record_path(app: Sphinx) -> Path:
    return Path(app.doctreedir) / RECORD


def _read_record(app: Sphinx) -> dict[str, Any]:
    try:
        data = json.loads(_record_path(app).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"docs": [], "everything": False}
    return data if isinstance(data, dict) else {"docs": [], "everything": True}


def install(app: Sphinx) -> None:
    """Put our filter on Sphinx's warning handler, last, where the location is a ``path:line``."""
    handler = next((h for h in logging.getLogger(sphinx_logging.NAMESPACE).handlers
                    if isinstance(h, sphinx_logging.WarningStreamHandler)), None)
    watcher = WarnedPages(app, _read_record(app))
    app.bookbuild_warned = watcher  # type: ignore[attr-defined]
    if handler is not None:
        handler.addFilter(watcher)


def outdated(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
             removed: set[str]) -> list[str]:
    """The pages that warned in the last build, read again (every page, where a warning was nowhere)."""
    watcher: WarnedPages = app.bookbuild_warned  # type: ignore[attr-defined]
    if watcher.previous.get("everything"):
        return sorted(env.found_docs)
    return sorted(set(watcher.previous.get("docs", [])) & env.found_docs)


def remember(app: Sphinx, exception: Exception | None) -> None:
    watcher: WarnedPages = app.bookbuild_warned  # type: ignore[attr-defined]
    docs, everything = watcher.docs, watcher.everything
    if exception is not None:  # the build stopped early: the pages it did not reach may still warn
        docs = docs | set(watcher.previous.get("docs", []))
        everything = everything or bool(watcher.previous.get("everything"))
    path = _record_path(app)
    if not docs and not everything:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"docs": sorted(docs), "everything": everything}, indent=1) + "\n",
                    encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", install)
    app.connect("env-get-outdated", outdated)
    app.connect("build-finished", remember)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
