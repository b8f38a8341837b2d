"""Translation states: for every passage of a chapter and every language, whether the text is
translated, a draft, stale or missing.

A *passage* is a language block of the source language (English, ``bookbuild.translation.source``)
together with the blocks that translate it, right after it: within a run of language blocks (only
blank lines between them), a source block always starts a passage, and a translation joins the
passage before it unless that passage already has its language. So ``en pt en pt`` is two
passages, ``en en pt`` an English passage whose Portuguese is missing and then a pair, and
``pt en pt`` a Portuguese passage with no English and then a pair.

Where each state lives, so that all of them show in a diff of the repository:

- *missing*: in the structure, a passage with no block in the language.
- *draft*: in the chapter, a ``:draft:`` line opening the translation's block. A translator sees it
  and deletes it once the translation is reviewed.
- *stale*: in the chapter's lock file, ``NAME.lock.yml`` beside ``NAME.md``. It records, for every
  translation, a hash of the source text it was last confirmed against. A translation whose own text
  is recorded against another source text is stale: the source changed and the translation did not.
  The hashes are of whitespace-normalised text, so re-wrapping or re-indenting the source changes
  nothing, while changing a word does. ``bookbuild confirm`` records translations; the importer and
  ``bookbuild po import`` record what they write.

A translation that is not in the lock at all (new, or edited since) counts as translated; the check
warns that it is unrecorded, since a later change to its source could not be noticed.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .files import write_atomic
from .model import DRAFT, MISSING, STALE, TRANSLATED, BookError, Chapter, Diagnostic, LanguageBlock, Passage
from .settings import Settings

LOCK_SUFFIX = ".lock.yml"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where PyYAML has it: locks are long
EXCERPT_WORDS = 8


def normalise(text: str) -> str:
    """The text as far as a translation cares: Unicode NFC, every run of whitespace one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def text_hash(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()[:12]


MARKERS = re.compile(r":(begin|end)_(tab|lang):(`[^`]*`)?")


def excerpt(text: str) -> str:
    """The first words of a passage, without its framework markers: enough to recognise it."""
    words = normalise(MARKERS.sub(" ", text)).split(" ")
    return " ".join(words[:EXCERPT_WORDS]) + (" …" if len(words) > EXCERPT_WORDS else "")


def pair_blocks(blocks: list[LanguageBlock], source: str) -> list[dict[str, LanguageBlock]]:
    """Group the language blocks into passages, run by run (see the module docstring)."""
    groups: list[dict[str, LanguageBlock]] = []
    run = None
    for block in blocks:
        if groups and block.run == run and block.lang != source and block.lang not in groups[-1]:
            groups[-1][block.lang] = block
        else:
            groups.append({block.lang: block})
        run = block.run
    return groups


# -- the lock file ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """A translation (by the hash of its text) confirmed against a source text (by its hash)."""

    source: str
    translation: str
    text: str  # the source's first words, for a reader of the diff


@dataclass
class Lock:
    path: Path
    records: dict[str, list[Record]] = field(default_factory=dict)  # by language
    problems: list[Diagnostic] = field(default_factory=list)
    _by_translation: dict[tuple[str, str], set[str]] | None = field(default=None, repr=False)

    def sources(self, lang: str, translation: str) -> set[str]:
        """Every source text a translation text was confirmed against."""
        return self._index().get((lang, translation), set())

    def has(self, lang: str, source: str, translation: str) -> bool:
        return source in self.sources(lang, translation)

    def _index(self) -> dict[tuple[str, str], set[str]]:
        """(language, translation hash) → source hashes, built once: a long chapter has thousands."""
        if self._by_translation is None:
            self._by_translation = {}
            for lang, records in self.records.items():
                for record in records:
                    self._by_translation.setdefault((lang, record.translation), set()).add(record.source)
        return self._by_translation


def lock_path(chapter_file: Path) -> Path:
    return chapter_file.with_suffix(LOCK_SUFFIX)


def read_lock(path: Path, shown: Path | None = None) -> Lock:
    """The lock beside a chapter; a missing file is an empty lock, a broken one a diagnostic."""
    lock = Lock(path)
    shown = shown or path
    if not path.exists():
        return lock
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER) or {}
    except (OSError, UnicodeDecodeError) as error:
        lock.problems.append(Diagnostic(shown, 1, f"cannot read the translation lock: {error}"))
        return lock
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (column {mark.column + 1})" if mark else ""
        lock.problems.append(Diagnostic(shown, mark.line + 1 if mark else 1, "the translation lock is not "
                                        f"valid YAML: {getattr(error, 'problem', None) or error}{where}"))
        return lock
    if not isinstance(data, dict):
        lock.problems.append(Diagnostic(shown, 1, "the translation lock must map languages to lists of records"))
        return lock
    for lang, entries in data.items():
        for entry in entries if isinstance(entries, list) else [None]:
            if not (isinstance(entry, dict) and isinstance(entry.get("source"), str)
                    and isinstance(entry.get("translation"), str)):
                lock.problems.append(Diagnostic(shown, 1, f"translation lock: a {lang!r} record needs "
                                                "`source` and `translation` hashes"))
                continue
            lock.records.setdefault(str(lang), []).append(
                Record(entry["source"], entry["translation"], str(entry.get("text", ""))))
    return lock


def dumps_lock(chapter_name: str, records: dict[str, list[Record]]) -> str:
    """The lock's text: records in chapter order, each with the first words of its source, so that
    a diff of the lock says which passages changed."""
    lines = [f"# Translation lock of {chapter_name}.md, written by `bookbuild confirm`: the hash of the source",
             "# text each translation was last confirmed against. A changed source makes its translation stale.",
             "# Hashes are of whitespace-normalised text: re-wrapping changes nothing. Review it with the chapter."]
    data = {lang: [{"source": r.source, "translation": r.translation, "text": r.text} for r in records[lang]]
            for lang in sorted(records) if records[lang]}
    return "\n".join(lines) + "\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


# -- states -------------------------------------------------------------------------------------------


def analyse(chapter: Chapter, settings: Settings, lock: Lock) -> list[Passage]:
    """Every passage of the chapter, with its state in each language."""
    found = []
    for blocks in pair_blocks(chapter.language_blocks, settings.source_language):
        source = blocks.get(settings.source_language)
        states = {}
        for lang in settings.language_codes:
            block = blocks.get(lang)
            if block is None:
                states[lang] = MISSING
            elif lang == settings.source_language or source is None:
                states[lang] = TRANSLATED  # an original, not a translation
            else:
                recorded = lock.sources(lang, text_hash(block.text))
                if recorded and text_hash(source.text) not in recorded:
                    states[lang] = STALE
                elif block.draft:
                    states[lang] = DRAFT
                else:
                    states[lang] = TRANSLATED
        found.append(Passage(blocks=blocks, states=states))
    return found


def chapter_lock(chapter: Chapter) -> Lock:
    """The chapter's lock file, read once and kept on the chapter."""
    if not isinstance(chapter.lock, Lock):
        chapter.lock = read_lock(lock_path(chapter.file or chapter.path), chapter.path.with_suffix(LOCK_SUFFIX))
    return chapter.lock


def passages(chapter: Chapter, settings: Settings) -> list[Passage]:
    """The chapter's passages and their states, computed once and kept on the chapter."""
    if chapter.passages is None:
        chapter.passages = analyse(chapter, settings, chapter_lock(chapter))
    return chapter.passages


def shown_passage(passage: Passage, lang: str, settings: Settings) -> tuple[str, str] | None:
    """Which language's block the ``lang`` edition shows for a passage, and the passage's state
    there; ``None`` where it shows its own text as translated."""
    state = passage.states[lang]
    if state == TRANSLATED:
        return None
    if state in (DRAFT, STALE):
        return lang, state
    fallback = settings.source_language if settings.source_language in passage.blocks else min(passage.blocks)
    return fallback, MISSING


def edition_blocks(chapter: Chapter, lang: str, settings: Settings) -> dict[int, tuple[str, str] | None]:
    """The language blocks that the ``lang`` edition shows, by index in ``chapter.language_blocks``,
    each with its notice: (state, language of its text), or ``None`` for a translated passage.
    A missing translation shows the original (the source language's, else the passage's own)."""
    index = {id(block): number for number, block in enumerate(chapter.language_blocks)}
    shown: dict[int, tuple[str, str] | None] = {}
    for passage in passages(chapter, settings):
        choice = shown_passage(passage, lang, settings)
        if choice is None:
            shown[index[id(passage.blocks[lang])]] = None
        else:
            text_lang, state = choice
            shown[index[id(passage.blocks[text_lang])]] = (state, text_lang)
    return shown


def check_translations(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """The translation gaps of a chapter, as warnings at the line a translator has to look at."""
    lock = chapter_lock(chapter)
    found = list(lock.problems)
    lock_name = lock.path.name
    unrecorded: dict[str, list[int]] = {}

    def warn(line: int, message: str) -> None:
        found.append(Diagnostic(chapter.path, line, message, warning=True))

    if chapter.plain:  # one language, no language blocks: one warning per missing language
        written = chapter.language_blocks[0].lang if chapter.language_blocks else settings.source_language
        count = len(chapter.language_blocks)
        for lang in settings.language_codes:
            if lang != written and count:
                warn(1, f"{lang!r} missing: the chapter is written in {written!r} only, without language "
                     f"blocks ({count} passage{'s' if count > 1 else ''}); the {lang!r} edition shows it "
                     "untranslated, with notices")
        return found

    for passage in passages(chapter, settings):
        source = passage.blocks.get(settings.source_language)
        for lang in settings.language_codes:
            state, block = passage.states[lang], passage.blocks.get(lang)
            if state == MISSING:
                there = next(iter(passage.blocks.values()))
                warn(there.line, f"{lang!r} missing: this {there.lang!r} passage has no {lang!r} block "
                     f"(the {lang!r} edition shows it untranslated, with a notice)")
            elif state == DRAFT:
                assert block is not None and block.draft
                warn(block.draft, f"{lang!r} draft: the translation has not been reviewed; delete "
                     "the :draft: line once it has")
            elif state == STALE:
                assert block is not None and source is not None
                warn(block.line, f"{lang!r} stale: the {settings.source_language!r} passage at line "
                     f"{source.line} changed since this translation was confirmed; update it, then run "
                     f"`bookbuild confirm {chapter.path}:{block.line}`")
            elif block is not None and source is not None and lang != settings.source_language \
                    and not lock.has(lang, text_hash(source.text), text_hash(block.text)):
                unrecorded.setdefault(lang, []).append(block.line)
    for lang, lines in unrecorded.items():
        more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
        warn(lines[0], f"{lang!r} translation not recorded in {lock_name}{more}: a later change to its "
             f"source would go unnoticed; run `bookbuild confirm {chapter.path}`")
    return found


def confirmed_records(chapter: Chapter, settings: Settings, lock: Lock, lines: set[int] | None,
                      everything: bool = False) -> dict[str, list[Record]]:
    """The lock after confirming the chapter's translations: every translation is recorded against
    its current source, except stale ones, which keep their old record unless named by a line of
    ``lines`` (any line of the passage) or ``everything`` is set. Records of texts no longer in the
    chapter are dropped."""
    records: dict[str, list[Record]] = {lang: [] for lang in settings.translations}
    seen: set[Record] = set()
    for passage in analyse(chapter, settings, lock):
        source = passage.blocks.get(settings.source_language)
        if source is None:
            continue
        named = everything or (lines is not None and any(
            block.line <= line <= block.end for block in passage.blocks.values() for line in lines))
        for lang in settings.translations:
            block = passage.blocks.get(lang)
            if block is None:
                continue
            translation = text_hash(block.text)
            if passage.states[lang] == STALE and not named:
                kept = [r for r in lock.records.get(lang, []) if r.translation == translation]
            else:
                kept = [Record(text_hash(source.text), translation, excerpt(source.text))]
            for record in kept:
                if record not in seen:
                    seen.add(record)
                    records[lang].append(record)
    return records


def confirm(chapter: Chapter, settings: Settings, lines: set[int] | None = None, everything: bool = False) -> bool:
    """Write the chapter's lock with its translations confirmed (see ``confirmed_records``);
    returns whether the file changed. A chapter without translations has no lock."""
    lock = chapter_lock(chapter)
    if lock.problems:
        raise BookError(lock.problems)
    records = confirmed_records(chapter, settings, lock, lines, everything)
    text = dumps_lock(chapter.name, records)
    old = lock.path.read_text(encoding="utf-8") if lock.path.exists() else None
    if not any(records.values()):
        if old is not None:
            lock.path.unlink()
        return old is not None
    if text == old:
        return False
    write_atomic(lock.path, text)
    chapter.passages = chapter.lock = None
    return True
