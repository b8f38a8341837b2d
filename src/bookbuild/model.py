"""The document model: what a chapter says, with every trace of the source dialect removed.

Prose is stored as MyST markdown, ready for notebooks and Sphinx; the line numbers point back to the
chapter so that every later stage can blame the right line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Diagnostic:
    """A problem in a chapter, printed as ``file:line: message`` like a compiler error."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class BookError(Exception):
    """Raised with every diagnostic found, so that an author fixes a file in one pass."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=lambda d: (str(d.path), d.line, d.message))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


@dataclass(frozen=True)
class Prose:
    """Markdown shown to the readers of one language (or both) and one framework (or all)."""

    text: str
    line: int
    lang: str | None = None
    frameworks: frozenset[str] | None = None

    def shown_to(self, lang: str, framework: str) -> bool:
        return (self.lang is None or self.lang == lang) and (
            self.frameworks is None or framework in self.frameworks
        )


@dataclass(frozen=True)
class Code:
    """A code cell that is executed once per framework it belongs to, in every language."""

    source: str
    line: int
    frameworks: tuple[str, ...]
    varies: bool = False  # output legitimately differs between runs: not compared by nbval
    raises: bool = False  # the cell demonstrates an error: it must raise
    solution: bool = False  # an exercise solution: shown collapsed


@dataclass(frozen=True)
class Target:
    """Something a reference can point at: a section, a figure or an equation."""

    name: str
    line: int
    kind: str  # "section", "figure" or "equation"


@dataclass(frozen=True)
class Reference:
    name: str
    line: int
    role: str  # "numref" or "eqref"


@dataclass(frozen=True)
class OutlineEntry:
    """Where a heading stands: for the checks of structure, and for tables of contents."""

    line: int
    lang: str | None
    level: int
    title: str


Block = Prose | Code


@dataclass
class Chapter:
    """One source file: a section of the book in every language and framework."""

    path: Path
    name: str  # path below chapters/ without ".md", e.g. "deep-learning-computation/custom-layer"
    blocks: list[Block] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    headings: list[OutlineEntry] = field(default_factory=list)  # every heading, in order
    # Consecutive language blocks, as (language, line): each run must hold every language.
    language_runs: list[list[tuple[str, int]]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    default_framework: str = ""
    named_frameworks: frozenset[str] = frozenset()

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
        return any(isinstance(b, Prose) and b.lang is not None for b in self.blocks)

    def code_cells(self, framework: str) -> list[Code]:
        if not self.has_framework(framework):
            return []
        return [b for b in self.blocks if isinstance(b, Code) and framework in b.frameworks]

    def title(self, lang: str) -> str:
        """The first heading the readers of ``lang`` see, for tables of contents and errors."""
        for block in self.blocks:
            if isinstance(block, Prose) and block.lang in (None, lang):
                for line in block.text.splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
        return self.name
