"""The table of contents, ``_toc.yml``, read with sphinx-external-toc's parser, which is what
Jupyter Book itself uses; the YAML nodes give each entry its line, so that a problem is blamed on
the entry that has it."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from sphinx_external_toc.api import Document, GlobItem, UrlItem
from sphinx_external_toc.parsing import MalformedError, parse_toc_data

from .files import YamlFile, load_yaml
from .model import BookError, Diagnostic

WHERE = re.compile(r"\s*@\s*'([^']*)'\s*$")  # the parser's own path to the entry, e.g. @ '/chapters/1'


@dataclass(frozen=True)
class Entry:
    """A file (or a glob pattern) the table of contents names, and where."""

    name: str  # "chapters/part/section", without ".md"
    line: int
    glob: bool = False

    def names(self, chapter: str) -> bool:
        return fnmatch.fnmatchcase(chapter, self.name) if self.glob else chapter == self.name


def read_toc(path: Path, shown: Path) -> list[Entry]:
    """Every entry of the table of contents, in reading order; BookError at the bad entry's line."""
    toc = load_yaml(path, shown)
    if not isinstance(toc.data, dict):
        raise BookError([Diagnostic(shown, 1, "the table of contents must be a YAML mapping (format, root, "
                                    "chapters: see Jupyter Book's _toc.yml)")])
    try:
        site_map = parse_toc_data(toc.data)
    except MalformedError as error:
        raise BookError([_malformed(toc, str(error))]) from None
    lines = _file_lines(toc.node)
    entries: list[Entry] = []

    def visit(document: Document) -> None:
        entries.append(Entry(document.docname, lines.get(document.docname, [1])[0]))
        for tree in document.subtrees:
            for item in tree.items:
                if isinstance(item, GlobItem):
                    entries.append(Entry(str(item), lines.get(str(item), [1])[0], glob=True))
                elif not isinstance(item, UrlItem):
                    visit(site_map[str(item)])

    visit(site_map.root)
    return entries


def _malformed(toc: YamlFile, message: str) -> Diagnostic:
    """The parser's message, at the line of the entry its path names, or of a file named twice."""
    where = WHERE.search(message)
    if where:
        keys = [int(key) if key.isdigit() else key for key in where[1].split("/") if key]
        return toc.diagnostic(keys, WHERE.sub("", message))
    repeated = re.search(r"used multiple times: '([^']*)'", message)
    if repeated:
        lines = _file_lines(toc.node).get(repeated[1], [1])
        return Diagnostic(toc.shown, lines[-1], f"{repeated[1]!r} is listed twice (first at line {lines[0]})")
    return Diagnostic(toc.shown, 1, message)


def _file_lines(node: yaml.Node | None) -> dict[str, list[int]]:
    """The lines of every ``file:``, ``root:`` and ``glob:`` value, by value."""
    found: dict[str, list[int]] = {}
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if key.value in ("file", "root", "glob") and isinstance(value, yaml.ScalarNode):
                    found.setdefault(str(value.value), []).append(key.start_mark.line + 1)
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    for lines in found.values():
        lines.sort()
    return found
