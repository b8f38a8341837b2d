"""The document model: what a chapter says, with every trace of the source dialect removed.

A prose block is a sequence of parts. Most of it is plain markdown (CommonMark with ``$`` math),
kept line for line as the author wrote it; what the book numbers and links is data: headings,
display equations, figures and tables, each with its label, and the references inside the text.
Two renderers turn the parts into what their readers need: render_jupyter into the plain markdown
of the notebooks readers run, render_myst into the MyST that Sphinx reads for the HTML editions.
Line numbers point back to the chapter, so that every later stage can blame the right line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


@dataclass(frozen=True)
class Diagnostic:
    """A problem in a file, printed like a compiler error: ``file:line: message``, or
    ``file:line:column: message`` where the column is known, or ``file: message`` for a problem
    with the whole file (it is missing, say)."""

    path: Path
    line: int | None
    message: str
    column: int | None = None
    # A translation gap (missing, draft, stale, glossary): reported, but the book still builds,
    # unless the check is strict.
    warning: bool = False

    def __str__(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        kind = "warning: " if self.warning else ""
        return f"{where}: {kind}{' '.join(self.message.splitlines())}"  # one line, always


class BookError(Exception):
    """Raised with every diagnostic found, so that an author fixes a file in one pass."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=lambda d: (str(d.path), d.line or 0, d.column or 0, d.message))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class Reference(NamedTuple):
    """``:numref:`name``` or ``:eqref:`name```, where it stands in the text. (A named tuple: a
    long chapter has thousands, and they are made faster than a dataclass.)"""

    name: str
    line: int
    role: str  # "numref" or "eqref"


class Citation(NamedTuple):
    """``:cite:`key1,key2``` (parenthetical: "(Glorot and Bengio, 2010)") or ``:citet:`key```
    (textual: "Glorot and Bengio (2010)"), as d2lbook writes them; the keys are the BibTeX file's."""

    keys: tuple[str, ...]
    line: int
    textual: bool = False


# Markdown with the references split out: ("See ", Reference(...), ".\nMore text.")
Inline = tuple["str | Reference | Citation", ...]


@dataclass(frozen=True)
class Markdown:
    """Lines shown as they are: paragraphs, lists, quotes, plain fenced blocks, blank lines."""

    inline: Inline


@dataclass(frozen=True)
class Heading:
    inline: Inline  # the heading's lines as written, e.g. ("## Layers",)
    level: int
    title: str  # the plain text, for tables of contents and messages
    line: int
    label: str | None = None


@dataclass(frozen=True)
class Equation:
    """A ``$$`` display equation, as written."""

    text: str
    line: int
    label: str | None = None


@dataclass(frozen=True)
class Figure:
    """An image paragraph, ``![caption](path)``, with its label and d2lbook options (width)."""

    inline: Inline  # as written
    path: str
    caption: Inline
    line: int
    label: str | None = None
    options: tuple[tuple[str, str], ...] = ()  # e.g. (("width", "300px"),)
    alt: str | None = None  # what the image shows, for readers who cannot see it (:alt:)


@dataclass(frozen=True)
class Table:
    """A table, with the caption d2lbook writes on a line ``:Caption`` before it."""

    inline: Inline  # the table's lines as written
    caption: Inline | None
    line: int
    label: str | None = None


@dataclass(frozen=True)
class Rst:
    """d2lbook's ```` ```eval_rst ```` block: reStructuredText, for Sphinx to read as such."""

    text: str  # the block's content, without its fence
    line: int  # the opening fence's line


@dataclass(frozen=True)
class Contents:
    """d2lbook's ```` ```toc ```` block: the table of contents of a part (entries from _toc.yml)."""

    line: int


Part = Markdown | Heading | Equation | Figure | Table | Rst | Contents


@dataclass(frozen=True)
class Prose:
    """Prose shown to the readers of one language (or all) and one framework (or all)."""

    parts: tuple[Part, ...]
    line: int
    lang: str | None = None
    frameworks: frozenset[str] | None = None
    block: int | None = None  # index of its language block in ``Chapter.language_blocks``

    def shown_to(self, lang: str, framework: str) -> bool:
        return (self.lang is None or self.lang == lang) and (
            self.frameworks is None or framework in self.frameworks
        )



def fence(info: str, body: str) -> str:
    """A fenced block whose fence is longer than any backtick run in its body (both renderers
    write blocks of text they do not control: reStructuredText, say)."""
    runs = (len(line) - len(line.lstrip("`")) for line in (raw.strip() for raw in body.split("\n")))
    longest = max(runs, default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{body}\n{ticks}"


@dataclass(frozen=True)
class Code:
    """A code cell that is executed once per framework it belongs to, in every language."""

    source: str
    line: int
    frameworks: tuple[str, ...]
    varies: bool = False  # output legitimately differs between runs: not compared by nbval
    raises: bool = False  # the cell demonstrates an error: it must raise
    solution: bool = False  # an exercise solution: shown collapsed
    timeout: int | None = None  # seconds, where the cell needs more than the book's timeout


@dataclass(frozen=True)
class Target:
    """Something a reference can point at: a section, a figure, a table or an equation."""

    name: str
    line: int
    kind: str  # "section", "figure", "table" or "equation"


@dataclass(frozen=True)
class OutlineEntry:
    """Where a heading stands: for the checks of structure, and for tables of contents."""

    line: int
    lang: str | None
    level: int
    title: str


@dataclass(frozen=True)
class LanguageBlock:
    """One ``:begin_lang:`` … ``:end_lang:`` block as written: what a translator works on.

    ``text`` is the source between the markers, verbatim, without a ``:draft:`` mark; translation
    states, PO entries and imports all read it from here."""

    lang: str
    line: int  # the :begin_lang: line
    end: int  # the :end_lang: line
    text: str
    run: int  # language blocks with only blank lines between them share a run
    draft: int | None = None  # the line of its `:draft:` mark: an unreviewed translation


# The state of a passage in a language: the translation is done, an unreviewed draft, out of date
# with its source (stale), or missing. The source language's own text is translated or missing.
TRANSLATED, DRAFT, STALE, MISSING = "translated", "draft", "stale", "missing"
STATES = (TRANSLATED, DRAFT, STALE, MISSING)


@dataclass(frozen=True)
class Passage:
    """A passage of the book in every language: the language blocks that translate each other, and
    the state of each language (computed by translation.py from the chapter and its lock file)."""

    blocks: dict[str, LanguageBlock]  # by language; a missing language has none
    states: dict[str, str]  # by language, every language of the book

    @property
    def line(self) -> int:
        return min(block.line for block in self.blocks.values())


Block = Prose | Code


@dataclass
class Chapter:
    """One source file: a section of the book in every language and framework."""

    path: Path
    name: str  # path below chapters/ without ".md", e.g. "deep-learning-computation/custom-layer"
    blocks: list[Block] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    headings: list[OutlineEntry] = field(default_factory=list)  # every top-level heading, in order
    # Consecutive language blocks, as (language, line): each run must hold every language.
    language_runs: list[list[tuple[str, int]]] = field(default_factory=list)
    language_blocks: list[LanguageBlock] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    file: Path | None = None  # where it was read from, for the files beside it (its translation lock)
    passages: list[Passage] | None = None  # set once by translation.passages()
    lock: object | None = None  # its translation lock, read once by translation.chapter_lock()
    default_framework: str = ""
    named_frameworks: frozenset[str] = frozenset()
    # Written without language blocks, in one language: a d2lbook chapter whose prose is in the
    # book's source language (read.py makes each stretch of prose a language block of its own, so
    # every translation is missing and the editions fall back to it, with notices).
    plain: bool = False
    citations: list[Citation] = field(default_factory=list)
    images: list[tuple[str, int]] = field(default_factory=list)  # every image path the prose shows, and its line
    directives: list[tuple[str, int]] = field(default_factory=list)  # MyST directives (```{name}) in the prose
    links: list[tuple[str, int]] = field(default_factory=list)  # `[text](other.md)`: links to chapters

    @property
    def folder(self) -> Path | None:
        """The folder of the source file: its images are relative to it."""
        return self.file.parent if self.file else None

    def has_framework(self, framework: str) -> bool:
        """Whether the chapter is written for ``framework``, by d2lbook's rule: a page without code
        is for every framework; otherwise the framework needs a cell, and unless it is the default
        one, a `#@tab` line or a `:begin_tab:` block that names it (a `#@tab all` cell is not enough).
        """
        code = [b for b in self.blocks if isinstance(b, Code)]
        if not code:
            return True
        if not any(framework in b.frameworks for b in code):
            return False
        return framework == self.default_framework or framework in self.named_frameworks

    @property
    def bilingual(self) -> bool:
        """Whether the chapter is written with language blocks (a plain chapter is not)."""
        return not self.plain and any(isinstance(b, Prose) and b.lang is not None for b in self.blocks)

    @property
    def has_code(self) -> bool:
        return any(isinstance(b, Code) for b in self.blocks)

    def framework_gaps(self, frameworks: tuple[str, ...]) -> list[str]:
        """The frameworks this chapter has no code for, though it has code: its notebooks and tabs
        for them say so, and `status` counts them."""
        return [f for f in frameworks if self.has_code and not self.has_framework(f)]

    def code_cells(self, framework: str) -> list[Code]:
        if not self.has_framework(framework):
            return []
        return [b for b in self.blocks if isinstance(b, Code) and framework in b.frameworks]

    def title(self, lang: str) -> str:
        """The first top-level heading the readers of ``lang`` see, for tables of contents."""
        for heading in self.headings:
            if heading.level == 1 and heading.lang in (None, lang):
                return heading.title
        return self.name
