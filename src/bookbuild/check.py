"""Check the chapters as a book: rules that a single file's syntax cannot tell.

The reader already reported unclosed blocks, unknown names and misplaced cells. Here: every prose
block exists in every language, headings belong to a language, labels are unique across the book,
and every reference has a target.
"""

from __future__ import annotations

from pathlib import Path

from .model import BookError, Chapter, Diagnostic
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


def read_book(settings: Settings) -> list[Chapter]:
    """Read and check every chapter; raise every problem of every file at once."""
    files, problems = chapter_files(settings)
    chapters = [read_chapter(path, settings) for path in files]
    problems += check_book(chapters, settings) + check_toc(chapters, settings)
    if problems:
        raise BookError(problems)
    return chapters


def check_chapter(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """The rules for one bilingual chapter, after the reader's own diagnostics."""
    found = list(chapter.diagnostics)
    if found and not chapter.blocks:
        return found  # the file could not be read as text: nothing more to say

    def error(line: int, message: str) -> None:
        found.append(Diagnostic(chapter.path, line, message))

    if not chapter.bilingual:
        error(1, "chapter has no language blocks: write its prose in :begin_lang:`…` blocks "
              f"for {', '.join(settings.language_codes)}")
    for heading in chapter.headings:
        if heading.lang is None:
            error(heading.line, "heading outside any language block: every language needs its own")
    has_code = any(chapter.code_cells(f) for f in settings.framework_names)
    for framework in settings.framework_names:
        if has_code and not chapter.code_cells(framework):
            error(1, f"chapter has no code cell of its own for {framework!r}: show every idea in every "
                  "framework (#@tab all alone does not count, as in d2lbook)")
    for run in chapter.language_runs:
        for lang, line, missing in unpaired(run, settings.language_codes):
            error(line, f"prose block in {lang!r} has no {missing!r} counterpart "
                  "(each language block needs a partner in every language, next to it)")
    return found


def unpaired(run: list[tuple[str, int]], languages: tuple[str, ...]) -> list[tuple[str, int, str]]:
    """The blocks of a run of language blocks that have no partner: (language, line, the missing
    language). A run is a sequence of groups, one block per language each (en, pt, en, pt); a
    language that comes again before its group is complete starts the next group, so an extra
    block is blamed where it stands, not on the block after it."""
    found: list[tuple[str, int, str]] = []
    group: dict[str, int] = {}

    def close() -> None:
        for missing in (code for code in languages if code not in group):
            found.extend((lang, line, missing) for lang, line in group.items())
        group.clear()

    if any(lang not in languages for lang, _ in run):
        return []  # a block of an unknown language is reported already: the run cannot be paired
    for lang, line in run:
        if lang in group:
            close()
        group[lang] = line
    close()
    return found


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


def check_book(chapters: list[Chapter], settings: Settings) -> list[Diagnostic]:
    """Every rule, over every chapter; an empty list means the book can be built."""
    found: list[Diagnostic] = []
    for chapter in chapters:
        found.extend(check_chapter(chapter, settings))
    first_target = {}
    for chapter in chapters:
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
