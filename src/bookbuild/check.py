"""Check the chapters as a book: rules that a single file's syntax cannot tell.

The reader already reported unclosed blocks, unknown names and misplaced cells. Here: headings
belong to a language, and a translation has the same headings as its original; labels are unique
across the book, and every reference has a target. Gaps in the translation (missing, draft, stale,
off the glossary) are warnings: the book builds with them, showing each gap to its readers, unless
the check is strict. Apart from the rules, ``forward_references`` lists the references that point
ahead in the table of contents, for an author to review.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import replace
from pathlib import Path

from . import bibliography, buildable, glossary, translation
from .figures import check_figures
from .library import check_saved_code
from .model import BookError, Chapter, Diagnostic, OutlineEntry, Target
from .read import read_chapter
from .settings import Settings
from .toc import read_toc


def chapter_files(settings: Settings) -> tuple[list[Path], list[Diagnostic]]:
    """The chapter files below chapters/, and what is there but cannot be one: a folder whose name
    ends in .md, a link to nothing."""
    files, problems = [], []
    for path in sorted(settings.chapters_dir.rglob("*.md")):
        shown = path.relative_to(settings.root)
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            problems.append(Diagnostic(shown, None, "a folder named like a chapter file: rename it"))
        elif path.is_symlink():
            problems.append(Diagnostic(shown, None, "broken link: it points to a file that does not exist"))
    return files, problems


def read_book(settings: Settings, *, strict: bool | None = None,
              warnings: list[Diagnostic] | None = None) -> list[Chapter]:
    """Read and check every chapter; raise every problem of every file at once.

    Warnings (translation gaps) go to ``warnings`` when given; a strict check (``strict``, or by
    default the book's ``translation.strict`` setting) raises them as errors.
    """
    files, problems = chapter_files(settings)
    chapters = [read_chapter(path, settings) for path in files]
    problems += check_book(chapters, settings) + check_toc(chapters, settings)
    strict = settings.strict if strict is None else strict
    errors = [replace(d, warning=False) if strict else d for d in problems if strict or not d.warning]
    if errors:
        raise BookError(errors)
    if warnings is not None:
        warnings.extend(sorted((d for d in problems if d.warning), key=lambda d: (str(d.path), d.line or 0)))
    return chapters


def check_chapter(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """The rules for one bilingual chapter, after the reader's own diagnostics."""
    found = list(chapter.diagnostics)
    if found and not chapter.blocks:
        return found  # the file could not be read as text: nothing more to say

    def error(line: int, message: str) -> None:
        found.append(Diagnostic(chapter.path, line, message))

    for heading in chapter.headings:
        if heading.lang is None and not chapter.plain:
            error(heading.line, "heading outside any language block: in a chapter with language blocks, "
                  "every language needs its own")
    found.extend(framework_gaps(chapter, settings))
    found.extend(check_heading_pairs(chapter, settings))
    found.extend(translation.check_translations(chapter, settings))
    found.extend(check_saved_code(chapter, settings))
    found.extend(check_figures(chapter, settings))
    return found


def framework_gaps(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """A section with code, but none for a framework: legal, and shown to that framework's readers
    (its notebook and tabs say so); a warning, or an error where the book asks for every framework."""
    found = []
    for framework in chapter.framework_gaps(settings.framework_names):
        named = settings.framework(framework).display_name
        message = (f"no code for {framework!r}: the {named} notebook and tabs of this section say so "
                   "(a `#@tab all` cell alone does not count, as in d2lbook)")
        found.append(Diagnostic(chapter.path, 1, message + ("; bookbuild.every_framework asks for every "
                                                            "framework" if settings.every_framework else ""),
                                warning=not settings.every_framework))
    return found


def check_heading_pairs(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """A translation must have the same headings as its original, level by level: a heading that
    one language lacks is a missing subsection in that edition (and breaks the section numbers)."""
    reference = settings.source_language
    by_lang: dict[str | None, list[OutlineEntry]] = {}
    for heading in sorted(chapter.headings, key=lambda h: h.line):
        by_lang.setdefault(heading.lang, []).append(heading)
    starts = {lang: [h.line for h in headings] for lang, headings in by_lang.items()}

    def within(lang: str, first: int, end: int) -> list[OutlineEntry]:
        """The headings of ``lang`` on lines first..end-1, found by bisection: a long chapter has
        thousands of passages, and scanning every heading for each was quadratic."""
        lines = starts.get(lang, [])
        return by_lang.get(lang, [])[bisect_left(lines, first):bisect_left(lines, end)]

    found = []
    for passage in translation.passages(chapter, settings):
        original = passage.blocks.get(reference)
        if original is None:
            continue
        # A heading may share the marker's line (an error of its own), hence the marker's line counts.
        model = within(reference, original.line, original.end)
        for lang, block in passage.blocks.items():
            if lang == reference:
                continue
            mine = within(lang, block.line, block.end)
            found.extend(_compare_headings(chapter, lang, block.line, mine, reference, original.line, model))
    return found


def _compare_headings(chapter: Chapter, lang: str, ours: int, mine: list[OutlineEntry], reference: str,
                      theirs: int, model: list[OutlineEntry]) -> list[Diagnostic]:
    """The difference between two blocks' headings, reported in the translation. Titles differ
    between languages, so a missing heading cannot be named for sure: both lists are shown."""
    def shown(headings: list[OutlineEntry]) -> str:
        return ", ".join(repr(f"{'#' * h.level} {h.title}") for h in headings) or "none"

    def count(headings: list[OutlineEntry]) -> str:
        return {0: "no heading", 1: "1 heading"}.get(len(headings), f"{len(headings)} headings")

    if len(mine) != len(model):
        message = (f"{lang!r} block has {count(mine)} but its {reference!r} counterpart (line {theirs}) "
                   f"has {len(model)}: {shown(mine)} against {shown(model)}; paired blocks need the same "
                   "headings")
        return [Diagnostic(chapter.path, ours, message)]
    for heading, counterpart in zip(mine, model, strict=True):
        if heading.level != counterpart.level:
            message = (f"heading {shown([heading])} is level {heading.level}, but its {reference!r} "
                       f"counterpart {shown([counterpart])} (line {counterpart.line}) is level {counterpart.level}")
            return [Diagnostic(chapter.path, heading.line, message)]
    return []


def check_toc(chapters: list[Chapter], settings: Settings) -> list[Diagnostic]:
    """A chapter missing from _toc.yml would silently vanish from both editions; an entry that
    names no chapter would fail the HTML build."""
    shown = Path("_toc.yml")
    try:
        entries = read_toc(settings.root / shown, shown)
    except BookError as error:
        return error.diagnostics
    names = [f"chapters/{chapter.name}" for chapter in chapters]
    found = [Diagnostic(chapter.path, 1, "chapter is not listed in _toc.yml")
             for chapter, name in zip(chapters, names, strict=True) if not any(e.names(name) for e in entries)]
    for entry in entries:
        if not any(entry.names(name) for name in names):
            hint = " (write it without .md)" if entry.name.endswith(".md") else ""
            what = "pattern matches" if entry.glob else "names"
            found.append(Diagnostic(shown, entry.line, f"{entry.name!r} {what} no chapter file{hint}"))
    return found


def forward_references(chapters: list[Chapter], order: list[str]) -> list[Diagnostic]:
    """Every ``:numref:`` whose target comes later in the reading order than the reference: a
    later chapter in the table of contents (``order``, the files of ``toc.read_toc``), or further
    down the same chapter. Sometimes right ("as we will see in …"), so a listing, not an error."""
    position = {name: index for index, name in enumerate(order)}
    where = {}  # label -> (chapter, target)
    for chapter in chapters:
        for target in chapter.targets:
            where.setdefault(target.name, (chapter, target))
    found = []
    for chapter in chapters:
        here = position.get(f"chapters/{chapter.name}")
        for ref in chapter.references:
            if ref.role != "numref" or ref.name not in where:
                continue
            other, target = where[ref.name]
            there = position.get(f"chapters/{other.name}")
            if other is chapter:
                ahead = _starts_at(chapter, target) > ref.line
            else:
                ahead = here is not None and there is not None and there > here
            if ahead:
                found.append(Diagnostic(chapter.path, ref.line, f":numref: points forward to {ref.name!r} "
                                        f"({other.path}:{target.line})"))
    return sorted(found, key=lambda d: (str(d.path), d.line, d.message))


def _starts_at(chapter: Chapter, target: Target) -> int:
    """Where a label's section begins: its heading, which comes before the label (the label follows
    the headings of every language); a reference inside the section does not point forward."""
    if target.kind != "section":
        return target.line
    named = []
    for lang in {h.lang for h in chapter.headings}:
        before = [h.line for h in chapter.headings if h.lang == lang and h.line < target.line]
        if before:
            named.append(before[-1])
    return min(named, default=target.line)


def reading_order(chapters: list[Chapter], settings: Settings) -> list[Chapter]:
    """The chapters as _toc.yml orders them, then those it does not list, in the order given: a
    duplicate label is blamed on the copy a reader meets second. A table of contents that cannot be
    read (check_toc reports it) leaves the order given."""
    try:
        entries = read_toc(settings.root / "_toc.yml", Path("_toc.yml"))
    except BookError:
        return chapters
    exact = {entry.name: index for index, entry in reversed(list(enumerate(entries))) if not entry.glob}
    patterns = [(index, entry) for index, entry in enumerate(entries) if entry.glob]

    def position(chapter: Chapter) -> int:
        name = f"chapters/{chapter.name}"
        if name in exact:
            return exact[name]
        return next((index for index, entry in patterns if entry.names(name)), len(entries))

    return sorted(chapters, key=position)  # stable: chapters at the same place keep their order


def check_book(chapters: list[Chapter], settings: Settings) -> list[Diagnostic]:
    """Every rule, over every chapter; an empty list means the book can be built."""
    terms = glossary.load(settings)
    works = bibliography.load(settings.root, settings.bibliography)
    found: list[Diagnostic] = list(terms.problems) + works.problems
    for chapter in chapters:
        found.extend(check_chapter(chapter, settings))
        found.extend(glossary.check_chapter(chapter, settings, terms))
        if chapter.blocks:
            found.extend(buildable.check_chapter(chapter, settings, works))
    first_target = {}
    for chapter in reading_order(chapters, settings):
        for target in chapter.targets:
            if target.name in first_target:
                path, line = first_target[target.name]
                found.append(Diagnostic(chapter.path, target.line,
                                        f"duplicate label {target.name!r} (first defined at {path}:{line})"))
            else:
                first_target[target.name] = (chapter.path, target.line)
    kinds = {t.name: t.kind for chapter in chapters for t in chapter.targets}
    # A file that could not be read as text has labels nobody knows: references are not judged then.
    unread = any(chapter.diagnostics and not chapter.blocks for chapter in chapters)
    for chapter in chapters:
        for ref in chapter.references:
            if ref.name not in kinds:
                if unread:
                    continue
                found.append(Diagnostic(chapter.path, ref.line,
                                        f":{ref.role}: refers to {ref.name!r}, which no chapter labels"))
            elif (ref.role == "eqref") != (kinds[ref.name] == "equation"):
                found.append(Diagnostic(chapter.path, ref.line,
                                        f":{ref.role}: refers to {ref.name!r}, which labels a {kinds[ref.name]}"))
    return found
