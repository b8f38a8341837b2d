"""Check the chapters as a book: rules that a single file's syntax cannot tell.

The reader already reported unclosed blocks, unknown names and misplaced cells. Here: headings
belong to a language, labels are unique across the book, and every reference has a target. Gaps in
the translation (missing, draft, stale, off the glossary) are warnings: the book builds with them,
showing each gap to its readers, unless the check is strict.
"""

from __future__ import annotations

import yaml

from . import glossary, translation
from .model import Chapter, Diagnostic
from .settings import Settings


def check_chapter(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """The rules for one bilingual chapter, after the reader's own diagnostics."""
    found = list(chapter.diagnostics)

    def error(line: int, message: str) -> None:
        found.append(Diagnostic(chapter.path, line, message))

    if not chapter.bilingual:
        error(1, "chapter has no language blocks: write its prose in :begin_lang:`…` blocks "
              f"for {', '.join(settings.language_codes)}")
    for line, lang in chapter.headings:
        if lang is None:
            error(line, "heading outside any language block: every language needs its own")
    has_code = any(chapter.code_cells(f) for f in settings.framework_names)
    for framework in settings.framework_names:
        if has_code and not chapter.code_cells(framework):
            error(1, f"chapter has no code cell of its own for {framework!r}: show every idea in every "
                  "framework (#@tab all alone does not count, as in d2lbook)")
    found.extend(translation.check_translations(chapter, settings))
    return found


def toc_entries(toc: dict) -> list[str]:
    """Every file a Jupyter Book table of contents names, in reading order."""
    found = [toc["root"]] if "root" in toc else []
    for key in ("parts", "chapters", "sections"):
        for entry in toc.get(key, []):
            if "file" in entry:
                found.append(entry["file"])
            found.extend(toc_entries(entry))
    return found


def check_toc(chapters: list[Chapter], settings: Settings) -> list[Diagnostic]:
    """A chapter missing from _toc.yml would silently vanish from both editions."""
    toc_path = settings.root / "_toc.yml"
    listed = toc_entries(yaml.safe_load(toc_path.read_text(encoding="utf-8")))
    names = {f"chapters/{chapter.name}" for chapter in chapters}
    found = [Diagnostic(chapter.path, 1, "chapter is not listed in _toc.yml")
             for chapter in chapters if f"chapters/{chapter.name}" not in listed]
    found += [Diagnostic(toc_path.relative_to(settings.root), 1, f"{entry!r} names no chapter file")
              for entry in listed if entry not in names]
    return found


def check_book(chapters: list[Chapter], settings: Settings) -> list[Diagnostic]:
    """Every rule, over every chapter; an empty list means the book can be built."""
    terms = glossary.load(settings)
    found: list[Diagnostic] = list(terms.problems)
    for chapter in chapters:
        found.extend(check_chapter(chapter, settings))
        found.extend(glossary.check_chapter(chapter, settings, terms))
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
    for chapter in chapters:
        for ref in chapter.references:
            if ref.name not in kinds:
                found.append(Diagnostic(chapter.path, ref.line,
                                        f":{ref.role}: refers to {ref.name!r}, which no chapter labels"))
            elif (ref.role == "eqref") != (kinds[ref.name] == "equation"):
                found.append(Diagnostic(chapter.path, ref.line,
                                        f":{ref.role}: refers to {ref.name!r}, which labels a {kinds[ref.name]}"))
    return found
