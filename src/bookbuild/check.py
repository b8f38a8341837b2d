"""Check the chapters as a book: rules that a single file's syntax cannot tell.

The reader already reported unclosed blocks, unknown names and misplaced cells. Here: every prose
block exists in every language, with the same headings as its partners; headings belong to a
language; labels are unique across the book, and every reference has a target. Apart from the
rules, ``forward_references`` lists the references that point ahead in the table of contents, for
an author to review.
"""

from __future__ import annotations

from collections import Counter

import yaml

from .model import Chapter, Diagnostic, OutlineEntry, Target
from .settings import Settings


def check_chapter(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """The rules for one bilingual chapter, after the reader's own diagnostics."""
    found = list(chapter.diagnostics)

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
        counts = Counter(lang for lang, _ in run)
        for code in settings.language_codes:
            # Pair the blocks of each language in order; those left without a partner are reported.
            seen: Counter[str] = Counter()
            for lang, line in run:
                seen[lang] += 1
                if lang != code and lang in settings.language_codes and seen[lang] > counts[code]:
                    error(line, f"prose block in {lang!r} has no {code!r} counterpart "
                          "(each language block needs a partner in every language, next to it)")
    found.extend(check_heading_pairs(chapter, settings))
    return found


def check_heading_pairs(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """Paired language blocks must have the same headings, level by level: a heading that one
    language lacks is a missing subsection in that edition (and breaks the section numbers)."""
    reference = settings.language_codes[0]
    starts: dict[str, list[int]] = {}  # every block's first line, by language
    for run in chapter.language_runs:
        for lang, line in run:
            starts.setdefault(lang, []).append(line)

    def block_of(heading: OutlineEntry) -> int:
        return max((line for line in starts.get(heading.lang or "", []) if line <= heading.line), default=0)

    headings: dict[tuple[str, int], list[OutlineEntry]] = {}
    for heading in chapter.headings:
        if heading.lang is not None:
            headings.setdefault((heading.lang, block_of(heading)), []).append(heading)

    found = []
    for run in chapter.language_runs:
        blocks: dict[str, list[int]] = {}
        for lang, line in run:
            blocks.setdefault(lang, []).append(line)
        for lang, lines in blocks.items():
            if lang == reference or lang not in settings.language_codes:
                continue
            for ours, theirs in zip(lines, blocks.get(reference, []), strict=False):
                found.extend(_compare_headings(chapter, lang, ours, headings.get((lang, ours), []),
                                               reference, theirs, headings.get((reference, theirs), [])))
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


def forward_references(chapters: list[Chapter], order: list[str]) -> list[Diagnostic]:
    """Every ``:numref:`` whose target comes later in the reading order than the reference: a
    later chapter in the table of contents (``order``, the files of ``toc_entries``), or further
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
    for chapter in chapters:
        for ref in chapter.references:
            if ref.name not in kinds:
                found.append(Diagnostic(chapter.path, ref.line,
                                        f":{ref.role}: refers to {ref.name!r}, which no chapter labels"))
            elif (ref.role == "eqref") != (kinds[ref.name] == "equation"):
                found.append(Diagnostic(chapter.path, ref.line,
                                        f":{ref.role}: refers to {ref.name!r}, which labels a {kinds[ref.name]}"))
    return found
