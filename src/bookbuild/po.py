"""Gettext round trip: one PO file per chapter and language, for Poedit, Weblate or Transifex.

``export`` writes ``locale/<language>/LC_MESSAGES/<chapter>.po``: one entry per passage of the
source language, msgid its text, msgstr the translation, ``#, fuzzy`` where the translation is a
draft or stale, and the source's place as ``chapters/….md:LINE``. ``import_po`` writes the
translations back into the chapters: a fuzzy entry becomes a ``:draft:`` translation, a reviewed one
loses the mark, and the lock records every translation written against its current source. PO files
are read and written by polib; an export followed by an import changes no byte.

Bad input (a PO file that cannot be read, an entry whose msgid is no longer in the chapter, a
translation that would break the chapter) is reported as ``file:line`` and nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polib

from . import translation
from .files import decode, write_all
from .model import MISSING, STALE, BookError, Chapter, Diagnostic, LanguageBlock, Passage
from .read import read_chapter
from .settings import Settings

SYNTAX_ERROR_LINE = re.compile(r"\(line (\d+)\)")


def po_path(settings: Settings, lang: str, chapter_name: str) -> Path:
    locale = settings.language(lang).sphinx_language
    return settings.root / "locale" / locale / "LC_MESSAGES" / f"{chapter_name}.po"


def keyed_passages(chapter: Chapter, settings: Settings) -> dict[tuple[str, str], Passage]:
    """The passages that have a source text, by (msgctxt, normalised msgid): the context tells
    repeated texts apart ("" for the first, then "2", "3", …)."""
    found: dict[tuple[str, str], Passage] = {}
    seen: dict[str, int] = {}
    for passage in translation.passages(chapter, settings):
        source = passage.blocks.get(settings.source_language)
        if source is None:
            continue
        text = translation.normalise(source.text)
        seen[text] = seen.get(text, 0) + 1
        found[(str(seen[text]) if seen[text] > 1 else "", text)] = passage
    return found


def export_chapter(chapter: Chapter, settings: Settings, lang: str) -> str:
    """The PO file of one chapter and language, as text: deterministic (no dates), sorted as the chapter."""
    po = polib.POFile(wrapwidth=78)
    po.header = (f"{chapter.path.as_posix()} in {settings.language(lang).sphinx_language}, written by "
                 "`bookbuild po export`.\nTranslate, then run `bookbuild po import`: "
                 "the chapter is the source of truth.")
    po.metadata = {
        "Project-Id-Version": settings.language(settings.source_language).title,
        "Language": settings.language(lang).sphinx_language,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    for (context, _), passage in keyed_passages(chapter, settings).items():
        source = passage.blocks[settings.source_language]
        target = passage.blocks.get(lang)
        state = passage.states[lang]
        entry = polib.POEntry(
            msgid=source.text,
            msgstr=target.text if target else "",
            msgctxt=context or None,
            occurrences=[(chapter.path.as_posix(), str(source.line))],
            flags=["fuzzy"] if state not in ("translated", MISSING) else [],
        )
        if state == STALE:
            entry.comment = "The English changed since this translation was confirmed."
        po.append(entry)
    return str(po)


def export(chapters: list[Chapter], settings: Settings, languages: list[str]) -> list[Path]:
    """Write the PO files of every chapter that has prose; returns those that changed."""
    contents = {po_path(settings, lang, chapter.name): export_chapter(chapter, settings, lang)
                for lang in languages for chapter in chapters
                if any(settings.source_language in p.blocks for p in translation.passages(chapter, settings))}
    return write_all(contents)


# -- import --------------------------------------------------------------------------------------------


@dataclass
class Edit:
    """Replace lines ``first``..``last`` (1-based, inclusive; ``last = first - 1`` inserts before
    ``first``) of a chapter with ``lines``."""

    first: int
    last: int
    lines: list[str]


@dataclass
class ChapterImport:
    chapter: Chapter
    edits: list[Edit] = field(default_factory=list)
    touched: list[tuple[str, str]] = field(default_factory=list)  # keys of the passages written


def read_po(path: Path, shown: Path) -> tuple[polib.POFile | None, list[Diagnostic]]:
    """Parse a PO file with polib; an unreadable one is a diagnostic at the offending line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return None, [Diagnostic(shown, 1, f"cannot read the PO file: {error.strerror or error}")]
    try:
        text = decode(data, shown)
    except BookError as error:
        return None, error.diagnostics
    try:
        return polib.pofile(text, wrapwidth=78), []
    except (OSError, ValueError) as error:
        found = SYNTAX_ERROR_LINE.search(str(error))
        return None, [Diagnostic(shown, int(found.group(1)) if found else 1,
                                 f"the PO file is not valid: {SYNTAX_ERROR_LINE.sub('', str(error)).strip()}")]


def plan_chapter(po: polib.POFile, po_shown: Path, chapter: Chapter, settings: Settings,
                 lang: str) -> tuple[ChapterImport, list[Diagnostic]]:
    """What the PO file changes in the chapter, or why it cannot."""
    plan, problems = ChapterImport(chapter), []
    passages = keyed_passages(chapter, settings)
    for entry in po:
        if entry.obsolete or not entry.msgid:
            continue
        key = (entry.msgctxt or "", translation.normalise(entry.msgid))
        passage = passages.get(key)
        if passage is None:
            problems.append(Diagnostic(po_shown, entry.linenum, f"msgid is no longer in {chapter.path} (its "
                                       "English changed after the export): export again and merge"))
            continue
        edit = entry_edit(entry, passage, lang)
        if edit is not None and chapter.plain:
            problems.append(Diagnostic(po_shown, entry.linenum, f"{chapter.path} has no language blocks (a plain "
                                       "d2lbook chapter): give it some first, with `bookbuild import "
                                       f"{chapter.path} --out {chapter.path} --force`, then import its translation"))
            break
        if edit is not None:
            plan.edits.append(edit)
            plan.touched.append(key)
    return plan, problems


def entry_edit(entry: polib.POEntry, passage: Passage, lang: str) -> Edit | None:
    """The change one entry makes to its passage, if any: new text, a draft mark added or removed,
    a translation inserted after its source."""
    block: LanguageBlock | None = passage.blocks.get(lang)
    fuzzy = "fuzzy" in entry.flags
    if not entry.msgstr:
        return None  # not translated in the PO file: the chapter keeps what it has
    body = entry.msgstr.split("\n")
    mark = [":draft:"] if fuzzy else []
    if block is None:
        source = next(iter(passage.blocks.values()))
        return Edit(source.end + 1, source.end, ["", f":begin_lang:`{lang}`", *mark, *body, ":end_lang:"])
    state = passage.states[lang]
    if entry.msgstr == block.text:
        if fuzzy and not block.draft and state != STALE:
            return Edit(block.line + 1, block.line, mark)  # marked for review in the PO editor
        if not fuzzy and block.draft:
            return Edit(block.draft, block.draft, [])  # reviewed in the PO editor
        if not fuzzy and state == STALE:
            return Edit(block.line, block.line - 1, [])  # confirmed as it is: only the lock changes
        return None
    return Edit(block.line + 1, block.end - 1, [*mark, *body])


def apply_edits(text: str, edits: list[Edit]) -> str:
    lines = text.split("\n")
    for edit in sorted(edits, key=lambda e: e.first, reverse=True):
        lines[edit.first - 1: edit.last] = edit.lines
    return "\n".join(lines)


def import_po(paths: list[Path], settings: Settings) -> list[Path]:
    """Write the translations of the PO files back into their chapters and locks.

    Every file is checked first; any problem raises ``BookError`` and nothing is written."""
    problems: list[Diagnostic] = []
    contents: dict[Path, str] = {}
    for path in paths:
        shown = path.resolve().relative_to(settings.root) if path.resolve().is_relative_to(settings.root) else path
        lang, name = locate(path, settings)
        if lang is None:
            problems.append(Diagnostic(shown, 1, "not a chapter's PO file: expected "
                                       "locale/<language>/LC_MESSAGES/<chapter>.po"))
            continue
        chapter_file = settings.chapters_dir / f"{name}.md"
        if not chapter_file.is_file():
            problems.append(Diagnostic(shown, 1, f"no chapter chapters/{name}.md for this PO file"))
            continue
        po, found = read_po(path, shown)
        problems += found
        if po is None:
            continue
        source_text = chapter_file.read_text(encoding="utf-8")
        chapter = read_chapter(chapter_file, settings, text=source_text)
        if chapter.diagnostics:
            problems += chapter.diagnostics
            continue
        plan, found = plan_chapter(po, shown, chapter, settings, lang)
        problems += found
        if found or not plan.edits:
            continue
        new_text = apply_edits(source_text, plan.edits)
        updated = read_chapter(chapter_file, settings, text=new_text)
        if updated.diagnostics:
            problems += [Diagnostic(shown, 1, f"its translations would break {chapter.path}: {d}")
                         for d in updated.diagnostics]
            continue
        passages = keyed_passages(updated, settings)
        lines = {line for key in plan.touched if key in passages
                 for line in (block.line for block in passages[key].blocks.values())}
        lock = translation.chapter_lock(chapter)
        problems += lock.problems
        records = translation.confirmed_records(updated, settings, lock, lines)
        contents[chapter_file] = new_text
        contents[lock.path] = translation.dumps_lock(updated.name, records)
    if problems:
        raise BookError(problems)
    return write_all(contents)


def locate(path: Path, settings: Settings) -> tuple[str | None, str]:
    """The language and chapter name of ``locale/<locale>/LC_MESSAGES/<chapter>.po``."""
    parts = path.resolve().parts
    if "LC_MESSAGES" not in parts or path.suffix != ".po":
        return None, ""
    at = len(parts) - 1 - parts[::-1].index("LC_MESSAGES")
    locale = parts[at - 1]
    lang = next((lang.code for lang in settings.languages if locale in (lang.sphinx_language, lang.code)), None)
    return lang, Path(*parts[at + 1:]).with_suffix("").as_posix()


def po_files(settings: Settings, languages: list[str]) -> list[Path]:
    found = []
    for lang in languages:
        folder = po_path(settings, lang, "x").parent
        found += sorted(folder.rglob("*.po")) if folder.exists() else []
    return found
