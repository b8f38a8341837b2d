"""The numbers Sphinx gives the book's labels, computed without Sphinx, for the reader notebooks.

The HTML editions let Sphinx resolve ``{numref}`` and ``{eq}``: a reader sees "Section 1.2" or
"Seção 1.2", so an author writes "na :numref:`sec_x`" and it reads as Portuguese. A notebook has no
Sphinx. Here the same numbers are computed from _toc.yml and the document model, so that
render_jupyter can write each reference out as a link "Seção 1.2" and each labelled equation with
its number, exactly as the HTML shows them (the browser tests compare the two).

Sphinx's rules, for a numbered table of contents: chapters are 1, 2, … (continuously across parts),
their sections 1.1, 1.2, … and the headings inside a file continue below its number (1.2.1, 1.2.1.1).
Figures, tables and labelled equations are numbered within each chapter, in reading order: 1.1, …
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .files import load_yaml
from .model import Chapter, OutlineEntry
from .settings import Settings


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
            elif target.name not in found:  # a figure labelled in each language block is one figure
                scope = number.split(".")[0] if number else chapter.name
                counters[scope, target.kind] = counters.get((scope, target.kind), 0) + 1
                count = counters[scope, target.kind]
                found[target.name] = Anchor(target.name, target.kind, chapter.name,
                                            f"{scope}.{count}" if number else str(count))
    return found


@dataclass(frozen=True)
class Page:
    """A file of the table of contents: its number, its title in each language, and the files of
    its sections, in order (what a ```` ```toc ```` block lists)."""

    chapter: str  # the chapter's name below chapters/
    number: str | None
    titles: dict[str, str]
    sections: tuple[str, ...]
    frameworks: frozenset[str]  # those it has notebooks for


@dataclass(frozen=True)
class Numbering:
    """Everything a renderer needs to write references without Sphinx: the labels and the pages."""

    anchors: dict[str, Anchor] = field(default_factory=dict)
    pages: dict[str, Page] = field(default_factory=dict)


def toc_sections(toc: dict) -> dict[str, list[str]]:
    """File (as _toc.yml names it) → the files of its sections, in order; the root's are the
    book's chapters, across parts."""
    sections: dict[str, list[str]] = {}

    def walk(entries: list[dict]) -> list[str]:
        files = []
        for entry in entries:
            if isinstance(entry, dict) and "file" in entry:
                files.append(entry["file"])
                sections[entry["file"]] = walk(entry.get("sections", []))
        return files

    chapters = [c for part in toc.get("parts", []) for c in part.get("chapters", [])]
    if "root" in toc:
        sections[toc["root"]] = walk(chapters + toc.get("chapters", []))
    return sections


def numbering(chapters: list[Chapter], toc: dict, languages: tuple[str, ...],
              frameworks: tuple[str, ...] = ()) -> Numbering:
    numbers, sections = toc_numbers(toc), toc_sections(toc)
    pages = {}
    for chapter in chapters:
        file = f"chapters/{chapter.name}"
        children = tuple(name.removeprefix("chapters/") for name in sections.get(file, ()))
        pages[chapter.name] = Page(chapter.name, numbers.get(file),
                                   {lang: chapter.title(lang) for lang in languages}, children,
                                   frozenset(f for f in frameworks if chapter.has_framework(f)))
    return Numbering(anchors(chapters, toc, languages), pages)


def book_numbering(chapters: list[Chapter], settings: Settings) -> Numbering:
    return numbering(chapters, load_toc(settings), settings.language_codes, settings.framework_names)
