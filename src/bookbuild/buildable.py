"""What the HTML build would warn about, found by ``check`` first, at the chapter's line.

The editions are built with warnings as errors, so a chapter that passes ``check`` but makes Sphinx
warn would fail ``make html`` with a message about a generated file. These rules catch, before
that (figures.py checks the images): a citation of a key that no BibTeX file has (or of an entry
that cannot be formatted), a reStructuredText block that does not parse, headings that skip a
level, and a labelled figure without a caption (Sphinx numbers figures by their captions).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from . import bibliography, rst, translation
from .model import Chapter, Diagnostic, Figure, OutlineEntry, Prose, Rst
from .settings import Settings


def image_file(chapter: Chapter, source: str, settings: Settings) -> Path | None:
    """The file an image path names, relative to the chapter; None for a web address."""
    parsed = urlparse(source)
    if parsed.scheme or source.startswith("//"):
        return None
    chapter_dir = (chapter.file or settings.root / chapter.path).parent
    path = unquote(parsed.path)
    return (settings.root / path.lstrip("/")) if path.startswith("/") else (chapter_dir / path)


def check_links(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """A link to a markdown file (`[the appendix](../appendix/index.md)`) must name a chapter: the
    editions turn it into a link to that chapter's page."""
    found = []
    for target, line in chapter.links:
        path = image_file(chapter, target.partition("#")[0], settings)
        if path is None:
            continue
        resolved = path.resolve()
        if not (resolved.is_relative_to(settings.chapters_dir) and resolved.is_file()):
            found.append(Diagnostic(chapter.path, line, f"link to {target!r}, which names no chapter file"))
    return found


def check_citations(chapter: Chapter, settings: Settings, works: bibliography.Bibliography) -> list[Diagnostic]:
    found = []
    for citation in chapter.citations:
        if not settings.bibliography:
            found.append(Diagnostic(chapter.path, citation.line, "citation, but the book has no bibliography: "
                                    "name its BibTeX file in _config.yml (bibtex_bibfiles: references.bib)"))
            continue
        if not citation.keys:
            found.append(Diagnostic(chapter.path, citation.line, "citation names no key"))
        for key in citation.keys:
            work = works.works.get(key)
            if work is None:
                if not works.problems:  # a broken file is reported itself; its keys are unknown
                    found.append(Diagnostic(chapter.path, citation.line, f"unknown citation key {key!r} "
                                            f"(not in {', '.join(settings.bibliography)})"))
            elif key in works.unformatted:
                found.append(Diagnostic(chapter.path, citation.line, f"{key!r} cannot be shown: "
                                        f"{works.unformatted[key]} ({work.file}:{work.line})"))
            elif not work.authors or not work.year:
                missing = " and ".join(w for w, have in (("author", work.authors), ("year", work.year)) if not have)
                found.append(Diagnostic(chapter.path, citation.line, f"{key!r} is cited by author and year, "
                                        f"but its entry has no {missing} ({work.file}:{work.line})"))
    return found


def check_rst(chapter: Chapter) -> list[Diagnostic]:
    found = []
    for block in chapter.blocks:
        if isinstance(block, Prose):
            for part in block.parts:
                if isinstance(part, Rst):
                    found.extend(Diagnostic(chapter.path, part.line + problem.line, problem.message)
                                 for problem in rst.problems(part.text))
    return found


def check_headings(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """MyST's rules for a page's headings, as each edition shows them (a missing translation shows
    the original's): the first one is a title (``#``), and no heading is more than one level below
    the one before it."""
    found: dict[int, Diagnostic] = {}
    for lang in settings.language_codes:
        blocks = chapter.language_blocks
        ranges = [(blocks[index].line, blocks[index].end)
                  for index in translation.edition_blocks(chapter, lang, settings)]
        shown: list[OutlineEntry] = [h for h in chapter.headings
                                     if h.lang is None or any(first <= h.line <= end for first, end in ranges)]
        if shown and shown[0].level != 1:
            found.setdefault(shown[0].line, Diagnostic(
                chapter.path, shown[0].line, f"the page's first heading is level {shown[0].level}: a page starts "
                "with its title, a level-1 heading (#)"))
        for before, heading in zip(shown, shown[1:], strict=False):
            if heading.level > before.level + 1:
                found.setdefault(heading.line, Diagnostic(
                    chapter.path, heading.line, f"heading skips a level: level {heading.level} right after level "
                    f"{before.level} (line {before.line}); use {'#' * (before.level + 1)}"))
    return list(found.values())


def check_directives(chapter: Chapter) -> list[Diagnostic]:
    """A ```` ```{name} ```` fence is a MyST directive in the editions: its name must be one Sphinx knows."""
    return [Diagnostic(chapter.path, line, f"unknown directive {{{name}}}: MyST reads ```{{{name}}} as a directive, "
                       "and no extension of the editions defines it (a plain code block is ```python)")
            for name, line in chapter.directives if not rst.known_directive(name)]


def check_figures(chapter: Chapter) -> list[Diagnostic]:
    found = []
    for block in chapter.blocks:
        if isinstance(block, Prose):
            for part in block.parts:
                if isinstance(part, Figure) and part.label and not "".join(
                        p for p in part.caption if isinstance(p, str)).strip():
                    found.append(Diagnostic(chapter.path, part.line, f"figure {part.label!r} has a label but no "
                                            "caption: Sphinx numbers a figure by its caption; write one, "
                                            "![Caption](path)"))
    return found


def check_chapter(chapter: Chapter, settings: Settings, works: bibliography.Bibliography) -> list[Diagnostic]:
    return (check_links(chapter, settings) + check_citations(chapter, settings, works)
            + check_rst(chapter) + check_headings(chapter, settings) + check_figures(chapter)
            + check_directives(chapter))
