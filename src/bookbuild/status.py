"""How far each chapter is translated: passages and words per state, per chapter and language.

One set of numbers feeds three readers: ``bookbuild status`` (a table for the terminal), ``bookbuild
status --json`` (for CI and badges) and the "Estado da tradução" page of the Portuguese edition.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from . import translation
from .model import MISSING, STATES, TRANSLATED, Chapter, Passage
from .settings import Settings
from .texts import text

WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


@dataclass(frozen=True)
class Gap:
    """A passage that is not translated yet in a language: where to look, and why."""

    state: str
    line: int  # the translation's block, or the source passage where the translation is missing
    words: int
    excerpt: str


@dataclass
class Coverage:
    chapter: str  # path from the book's root, e.g. chapters/part/section.md
    language: str
    blocks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    words: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    gaps: list[Gap] = field(default_factory=list)
    no_code: list[str] = field(default_factory=list)  # frameworks the chapter has code for none of

    @property
    def percent(self) -> float:
        """Share of the words whose translation is done (100 for a chapter without prose)."""
        total = sum(self.words.values())
        return 100.0 * self.words[TRANSLATED] / total if total else 100.0

    def add(self, other: Coverage) -> None:
        for state in STATES:
            self.blocks[state] += other.blocks[state]
            self.words[state] += other.words[state]


def word_count(passage: Passage, settings: Settings) -> tuple[int, str]:
    """Words of the passage's original (the source language's block, else any), and its first words."""
    block = passage.blocks.get(settings.source_language) or passage.blocks[min(passage.blocks)]
    words = WORD.findall(translation.MARKERS.sub(" ", block.text))
    return len(words), translation.excerpt(block.text)


def chapter_coverage(chapter: Chapter, settings: Settings) -> list[Coverage]:
    rows = []
    for lang in settings.language_codes:
        row = Coverage(chapter.path.as_posix(), lang, no_code=chapter.framework_gaps(settings.framework_names))
        for passage in translation.passages(chapter, settings):
            state = passage.states[lang]
            words, excerpt = word_count(passage, settings)
            row.blocks[state] += 1
            row.words[state] += words
            if state != TRANSLATED:
                block = passage.blocks.get(lang) if state != MISSING else None
                line = block.draft or block.line if block else passage.line
                row.gaps.append(Gap(state, line, words, excerpt))
        rows.append(row)
    return rows


def book_coverage(chapters: list[Chapter], settings: Settings) -> list[Coverage]:
    return [row for chapter in chapters for row in chapter_coverage(chapter, settings)]


def totals(rows: list[Coverage], settings: Settings) -> list[Coverage]:
    found = {lang: Coverage("total", lang) for lang in settings.language_codes}
    for row in rows:
        found[row.language].add(row)
    return list(found.values())


def to_json(rows: list[Coverage], settings: Settings) -> str:
    def item(row: Coverage, key: str) -> dict:
        return {key: row.chapter if key == "chapter" else row.language, "language": row.language,
                **row.blocks, "words": row.words, "percent": round(row.percent, 1),
                **({"gaps": [{"state": g.state, "line": g.line, "words": g.words} for g in row.gaps],
                    "framework_gaps": row.no_code} if key == "chapter" else {})}

    return json.dumps({
        "source_language": settings.source_language,
        "chapters": [item(row, "chapter") for row in rows],
        "totals": [{k: v for k, v in item(row, "language").items()} for row in totals(rows, settings)],
        "framework_gaps": framework_gaps(rows, settings),
    }, indent=2, ensure_ascii=False) + "\n"


def framework_gaps(rows: list[Coverage], settings: Settings) -> dict[str, int]:
    """How many chapters have no code for each framework (though they have code)."""
    chapters = {row.chapter: row.no_code for row in rows}
    return {name: sum(name in missing for missing in chapters.values()) for name in settings.framework_names}


def to_table(rows: list[Coverage], settings: Settings) -> str:
    """A plain table: one line per chapter and language, passages (words) in each state."""
    header = ["chapter", "lang", *STATES, "done"]

    def cells(row: Coverage) -> list[str]:
        return [row.chapter, row.language,
                *(f"{row.blocks[s]} ({row.words[s]} w)" for s in STATES), f"{row.percent:.0f}%"]

    body = [cells(row) for row in rows]
    total = [cells(row) for row in totals(rows, settings)]
    widths = [max(len(line[i]) for line in [header, *body, *total]) for i in range(len(header))]

    def render(line: list[str]) -> str:
        return "  ".join(cell.ljust(width) if i < 2 else cell.rjust(width)
                         for i, (cell, width) in enumerate(zip(line, widths, strict=True))).rstrip()

    rule = "  ".join("-" * width for width in widths)
    lines = [render(header), rule, *map(render, body), rule, *map(render, total)]
    counts = framework_gaps(rows, settings)
    if any(counts.values()):  # chapters with code, but none for a framework
        chapters = len({row.chapter for row in rows})
        lines += ["", "framework gaps: " + ", ".join(f"{name} {count} of {chapters} chapters"
                                                      for name, count in counts.items() if count)]
        for chapter, missing in dict((row.chapter, row.no_code) for row in rows if row.no_code).items():
            lines.append(f"  {chapter}: no code for {', '.join(missing)}")
    return "\n".join(lines) + "\n"


def status_page(chapters: list[Chapter], lang: str, settings: Settings) -> str:
    """The editions' "Translation status" page, in ``lang``: a table of the translations' coverage
    per chapter, then every gap with a link to its line in the repository."""
    rows = [row for row in book_coverage(chapters, settings)
            if row.blocks[MISSING] or row.language != settings.source_language]
    titles = {chapter.path.as_posix(): chapter.title(lang) for chapter in chapters}
    states = [text(lang, f"state_{state}").capitalize() for state in STATES]
    lines = [f"# {text(lang, 'translation_status')}", "", text(lang, "status_intro"), "",
             f"| {text(lang, 'status_chapter')} | {text(lang, 'status_language')} | " + " | ".join(states)
             + f" | {text(lang, 'status_done')} |",
             "| --- | --- | " + " | ".join("---:" for _ in states) + " | ---: |"]
    for row in rows:
        name = text(row.language, "language_name")
        lines.append(f"| {_cell(titles[row.chapter])} | {name} | "
                     + " | ".join(str(row.words[state]) for state in STATES) + f" | {row.percent:.0f}% |")
    lines += ["", f"## {text(lang, 'status_gaps')}", ""]
    gaps = [row for row in rows if row.gaps]
    if not gaps:
        lines.append(text(lang, "status_complete"))
    for row in gaps:
        lines += ["", f"**{_cell(titles[row.chapter])}** ({text(row.language, 'language_name')})", ""]
        for gap in row.gaps:
            where = text(lang, "status_line", line=str(gap.line))
            url = settings.repository.file_url(row.chapter, gap.line)
            lines.append(f"- [{where}]({url}): {text(lang, f'state_{gap.state}')}, "
                         f"{text(lang, 'status_words', words=str(gap.words))}. «{_cell(gap.excerpt)}»")
    no_code = [(titles[chapter.path.as_posix()], missing) for chapter in chapters
               if (missing := chapter.framework_gaps(settings.framework_names))]
    if no_code:
        names = {f.name: f.display_name for f in settings.frameworks}
        lines += ["", f"## {text(lang, 'status_framework_gaps')}", ""]
        lines += [f"- {_cell(title)}: {', '.join(names[name] for name in missing)}" for title, missing in no_code]
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    """Text safe inside a table cell or a list item: no pipes, no markup that could open a block."""
    return value.replace("|", "\\|").replace("`", "").replace("*", "").replace("$", "").lstrip("#").strip()
