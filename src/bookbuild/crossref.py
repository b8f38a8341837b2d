"""Cross-references in the notebooks: the numbers Sphinx gives labels, written out as text.

The HTML editions let Sphinx resolve ``{numref}`` and ``{eq}``: a reader sees "Section 1.2" or
"Seção 1.2", so an author writes "na :numref:`sec_x`" and it reads as Portuguese. A notebook has no
Sphinx, and would show the MyST role verbatim. Here the notebooks get the same numbers as the HTML,
computed from _toc.yml and the document model, and each reference becomes plain markdown: a link
"Seção 1.2" to the notebook that holds the section, an equation number "(1.4)".

Sphinx's rules, for a numbered table of contents: chapters are 1, 2, … (continuously across parts),
their sections 1.1, 1.2, … and the headings inside a file continue below its number (1.2.1, 1.2.1.1).
Figures, tables and labelled equations are numbered within each chapter, in reading order: 1.1, …
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .bibliography import Work, plain_citation
from .files import load_yaml
from .model import Chapter, OutlineEntry
from .settings import Settings
from .texts import text

NUMREF = re.compile(r"\{numref\}`([^`]+)`")
CITE = re.compile(r"\{cite:(p|t)\}`([^`]+)`")
EQREF = re.compile(r"\{eq\}`([^`]+)`")
TARGET = re.compile(r"^\(([^)\s]+)\)=$", re.MULTILINE)
EQUATION_LABEL = re.compile(r"\$\$ \(([^)\s]+)\)$", re.MULTILINE)


@dataclass(frozen=True)
class Anchor:
    """What a label names, and how a reference to it reads."""

    label: str
    kind: str  # "section", "figure", "table" or "equation"
    chapter: str  # the chapter's name below chapters/, e.g. "deep-learning-computation/parameters"
    number: str | None  # "1.2", "1.2.1", "1.4"; None where the table of contents numbers nothing
    titles: dict[str, str] = field(default_factory=dict)  # a section's heading, per language


def load_toc(settings: Settings) -> dict:
    """_toc.yml's data (a YAML syntax error is a BookError at its line); {} where there is none or
    it is malformed (`check` reports that, at its line: see toc.py)."""
    from sphinx_external_toc.parsing import MalformedError, parse_toc_data

    path = settings.root / "_toc.yml"
    data = load_yaml(path, Path("_toc.yml")).data if path.exists() else {}
    try:
        parse_toc_data(data)
    except MalformedError:
        return {}
    return data


def toc_numbers(toc: dict) -> dict[str, str]:
    """File (as _toc.yml names it) → its section number, if the table of contents is numbered."""
    numbered = (toc.get("options") or {}).get("numbered") or (toc.get("defaults") or {}).get("numbered")
    if not numbered:
        return {}
    numbers: dict[str, str] = {}

    def walk(entries: list[dict], prefix: str) -> None:
        for index, entry in enumerate((e for e in entries if isinstance(e, dict) and "file" in e), start=1):
            number = f"{prefix}{index}"
            numbers[entry["file"]] = number
            walk(entry.get("sections", []), f"{number}.")

    chapters = [c for part in toc.get("parts", []) for c in part.get("chapters", [])]
    walk(chapters + toc.get("chapters", []), "")
    return numbers


def _heading_numbers(headings: list[OutlineEntry], number: str | None) -> list[str | None]:
    """The number of each heading of one language in a file whose title has ``number``."""
    if not headings or number is None:
        return [None] * len(headings)
    top = headings[0].level
    counters: list[int] = []
    found: list[str | None] = [number]
    for heading in headings[1:]:
        depth = max(heading.level - top, 1)
        counters = counters[:depth] + [0] * (depth - len(counters))
        counters[depth - 1] += 1
        found.append(".".join([number, *map(str, counters)]))
    return found


def anchors(chapters: list[Chapter], toc: dict, languages: tuple[str, ...]) -> dict[str, Anchor]:
    """Every label of the chapters, with its number, in the reading order of the toc."""
    numbers = toc_numbers(toc)
    order = {name: index for index, name in enumerate(numbers)}
    ordered = sorted(chapters, key=lambda c: order.get(f"chapters/{c.name}", len(order)))
    found: dict[str, Anchor] = {}
    counters: dict[tuple[str, str], int] = {}  # (chapter number, kind) -> figures or equations so far
    for chapter in ordered:
        number = numbers.get(f"chapters/{chapter.name}")
        by_lang = {lang: [h for h in chapter.headings if h.lang in (lang, None)] for lang in languages}
        heading_numbers = {lang: _heading_numbers(hs, number) for lang, hs in by_lang.items()}
        for target in sorted(chapter.targets, key=lambda t: t.line):
            if target.kind == "section":
                titles, target_number = {}, None
                for lang, headings in by_lang.items():
                    before = [i for i, h in enumerate(headings) if h.line < target.line]
                    if before:
                        titles[lang] = headings[before[-1]].title
                        target_number = target_number or heading_numbers[lang][before[-1]]
                found[target.name] = Anchor(target.name, "section", chapter.name, target_number, titles)
            else:
                scope = number.split(".")[0] if number else chapter.name
                counters[scope, target.kind] = counters.get((scope, target.kind), 0) + 1
                count = counters[scope, target.kind]
                found[target.name] = Anchor(target.name, target.kind, chapter.name,
                                            f"{scope}.{count}" if number else str(count))
    return found


def book_anchors(chapters: list[Chapter], settings: Settings) -> dict[str, Anchor]:
    return anchors(chapters, load_toc(settings), settings.language_codes)


def plain_references(markdown: str, lang: str, chapter: Chapter, known: dict[str, Anchor],
                     works: dict[str, Work] | None = None, bibliography_page: str | None = None) -> str:
    """A prose block of the model (MyST) as a notebook shows it: references written out and
    linked, label targets as HTML anchors, equation labels as MathJax tags, citations as the HTML
    shows them ("(Glorot and Bengio, 2010)"), linked to the online bibliography."""

    def link(anchor: Anchor, shown: str) -> str:
        # Sections have an HTML anchor in the notebook (below); equations carry a MathJax tag only.
        fragment = f"#{anchor.label}" if anchor.kind == "section" else ""
        if anchor.chapter == chapter.name:
            return f"[{shown}]({fragment})" if fragment else shown
        here = Path(chapter.name).parent
        path = Path(os.path.relpath(f"{anchor.chapter}.ipynb", here)).as_posix()
        return f"[{shown}]({path}{fragment})"

    def numref(match: re.Match[str]) -> str:
        anchor = known.get(match.group(1))
        if anchor is None:
            return f"`{match.group(1)}`"
        if anchor.number is None:
            shown = anchor.titles.get(lang, anchor.label)
        elif anchor.kind in ("figure", "table"):
            shown = text(lang, f"{anchor.kind}_reference", number=anchor.number)
        else:
            shown = text(lang, "section_reference", number=anchor.number)
        return link(anchor, shown)

    def eqref(match: re.Match[str]) -> str:
        anchor = known.get(match.group(1))
        return link(anchor, f"({anchor.number})") if anchor else f"`{match.group(1)}`"

    def equation(match: re.Match[str]) -> str:
        anchor = known.get(match.group(1))
        tag = anchor.number if anchor and anchor.number else match.group(1)
        return f"\\tag{{{tag}}}$$"

    if "{cite:" in markdown:
        markdown = CITE.sub(lambda m: plain_citation([k.strip() for k in m[2].split(",")], m[1] == "t", lang,
                                                     works or {}, bibliography_page), markdown)
    markdown = NUMREF.sub(numref, markdown)
    markdown = EQREF.sub(eqref, markdown)
    markdown = EQUATION_LABEL.sub(equation, markdown)
    return TARGET.sub(lambda m: f'<a id="{m.group(1)}"></a>', markdown)
