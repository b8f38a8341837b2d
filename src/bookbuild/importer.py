"""Import existing material as a bilingual chapter: ``bookbuild import SOURCE [--pt TRANSLATION]``.

Three shapes of input, one output (a chapter with language blocks, its lock, and a report):

- **An interleaved file**, English and Portuguese paragraphs alternating with no markers, as a
  translation caught midway leaves them. Each paragraph, heading and list gets its language from a
  language detector restricted to the book's languages (lingua; its models ship in the wheel, so
  nothing is downloaded). An English block is paired with the Portuguese block right after it; a
  block without a partner is kept, and its twin is missing. A list whose items change language
  halfway is split in two.
- **Two monolingual files** of the same section, an English original and its Portuguese
  translation, as two language repositories keep them. Code cells, headings, labels, equations,
  figures and framework blocks are anchors, aligned by structure (difflib); the prose between two
  aligned anchors is paired. Where the code differs, the English file's is kept and the difference
  reported; where the structure does not align, the report says where.
- **A monolingual file**: every passage gets a missing translation.

Markers mangled by translation tools (``: numref:``, ``: begin_tab:``, a space before the backtick)
are repaired first. Code, equations, labels and figures are copied exactly. Imported translations
are ``:draft:`` unless ``reviewed``. Everything the importer could not place, and every repair, is
reported as ``file:line``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import translation
from .files import read_text, write_all
from .model import BookError, Diagnostic
from .read import CODE_INFO, NEAR_ROLE, block_tokens, parse_marker, read_chapter
from .settings import Settings

FIGURE = re.compile(r"^!\[[^\]]*\]\([^)\s]+\)\s*$")
HEADING = re.compile(r"^(#{1,6})\s")
ORDERED_ITEM = re.compile(r"^(\s*)(\d+)([.)])(\s)")
# What the detector should not see: code, math, links' targets, roles, markup.
NOT_WORDS = re.compile(r"`[^`]*`|\$\$?[^$]*\$\$?|\]\([^)]*\)|:\w+:|https?://\S+|[#*_>\[\]()|~-]+|\d+")
MIN_CONFIDENCE = 0.7
# Two files are one section in two languages when at least this share of their anchors align.
MIN_ALIGNED = 0.5


@dataclass
class Chunk:
    """A top-level piece of a markdown file: prose to translate, or an anchor kept as it is."""

    kind: str  # "prose", "heading", "code", "fence", "math", "figure", "html", "marker", "other"
    lines: list[str]
    line: int  # 1-based, in its file
    lang: str | None = None  # prose and headings: detected (or given) language

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def is_prose(self) -> bool:
        return self.kind in ("prose", "heading")

    def key(self) -> tuple:
        """What two files' anchors must share to be aligned."""
        first = self.lines[0].strip()
        if self.kind == "heading":
            return ("heading", len(HEADING.match(first).group(1)))  # type: ignore[union-attr]
        if self.kind == "marker":
            return ("marker", first.replace(" ", ""))
        if self.kind == "figure":
            return ("figure", first[first.index("](") + 2:])
        if self.kind == "code":
            return ("code", next((ln.strip() for ln in self.lines[1:] if ln.strip().startswith("#@tab")), ""))
        return (self.kind,)


@dataclass
class Report:
    notes: list[Diagnostic] = field(default_factory=list)

    def note(self, path: Path, line: int, message: str) -> None:
        self.notes.append(Diagnostic(path, line, message))


# -- reading -----------------------------------------------------------------------------------------


def repair(lines: list[str], path: Path, report: Report) -> list[str]:
    """Undo what translation tools do to markers and roles (``: end_tab:``, ``: numref: `x```),
    outside fences, by the reader's own grammar of near misses."""
    fixed, fence = [], None
    for number, line in enumerate(lines, start=1):
        stripped = line.lstrip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif fence is not None and stripped.startswith(fence):
            fence = None
        elif fence is None:
            marker = parse_marker(line)
            if marker is not None and marker.problem and marker.name not in ("begin_lang", "end_lang"):
                new = f":{marker.name}:" + (f"`{marker.argument}`" if marker.argument is not None else "")
            else:
                new = NEAR_ROLE.sub(_mend_role, line)
            if new != line:
                report.note(path, number, f"repaired a marker mangled by a translation tool: "
                            f"{line.strip()!r} -> {new.strip()!r}")
                line = new
        fixed.append(line)
    return fixed


def _mend_role(match: re.Match[str]) -> str:
    """``em: numref: `x``` → ``em :numref:`x```: the role, and the space before it that it lost."""
    glued = match.start() > 0 and match.string[match.start() - 1].isalnum()
    return (" " if glued else "") + f":{match[1]}:`{match[2]}`"


def chunks(lines: list[str]) -> list[Chunk]:
    """The file's top-level blocks, from the reader's block tokens (markdown-it's, with d2lbook's
    marker lines as tokens of their own) and their line maps."""
    found: list[Chunk] = []
    for token in block_tokens("\n".join(lines)):
        if token.level != 0 or token.map is None or token.nesting == -1:
            continue
        start, end = token.map
        body = lines[start:end]
        while body and not body[-1].strip():
            body.pop()
        if token.type == "d2l_marker":
            found.append(Chunk("marker", body, start + 1))
        elif token.type == "fence":
            kind = "code" if token.markup == "```" and CODE_INFO.fullmatch(token.info) else "fence"
            found.append(Chunk(kind, body, start + 1))
        elif token.type == "math_block" or token.type == "math_block_label":
            found.append(Chunk("math", body, start + 1))
        elif token.type == "heading_open":
            found.append(Chunk("heading", body, start + 1))
        elif token.type == "html_block":
            found.append(Chunk("html", body, start + 1))
        elif token.type in ("hr", "code_block"):
            found.append(Chunk("other", body, start + 1))
        else:  # paragraphs, lists, quotes, tables
            text = "\n".join(body).strip()
            kind = "figure" if len(body) == 1 and FIGURE.match(text) else \
                "math" if text.startswith("$$") and text.endswith("$$") and len(text) > 4 else "prose"
            found.append(Chunk(kind, body, start + 1))
    return found


# -- languages ---------------------------------------------------------------------------------------


class Detector:
    """lingua, restricted to the book's languages: offline, deterministic."""

    def __init__(self, codes: tuple[str, ...]):
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        languages = [Language.from_iso_code_639_1(IsoCode639_1.from_str(code)) for code in codes]
        self.detector = LanguageDetectorBuilder.from_languages(*languages).build()

    def language(self, text: str) -> str | None:
        words = NOT_WORDS.sub(" ", text)
        if not re.search(r"[^\W\d_]{2}", words):
            return None
        best = max(self.detector.compute_language_confidence_values(words), key=lambda c: c.value)
        return best.language.iso_code_639_1.name.lower() if best.value >= MIN_CONFIDENCE else None


def detect(items: list[Chunk], detector: Detector, settings: Settings, path: Path, report: Report) -> list[Chunk]:
    """Give each prose chunk its language; split lists whose items change language."""
    found: list[Chunk] = []
    for chunk in items:
        if not chunk.is_prose:
            found.append(chunk)
            continue
        parts = _split_list(chunk, detector, path, report) if _is_list(chunk) else [chunk]
        for part in parts:
            if part.lang is None:
                part.lang = detector.language(part.text)
            if part.lang is None:
                if part.kind == "heading":
                    part.lang = settings.source_language
                    report.note(path, part.line, f"cannot tell the language of this heading: taken as "
                                f"{part.lang!r}")
                else:
                    part.kind = "neutral"  # a link, a number, a name: shown in every language
                    report.note(path, part.line, "cannot tell the language of this block: kept for every "
                                "language, outside the language blocks")
            found.append(part)
    return found


def _is_list(chunk: Chunk) -> bool:
    return chunk.kind == "prose" and bool(re.match(r"^\s*([*+-]|\d+[.)])\s", chunk.lines[0]))


def _split_list(chunk: Chunk, detector: Detector, path: Path, report: Report) -> list[Chunk]:
    """A list whose items change language becomes one list per language run; empty items go, and
    the later list is renumbered from 1 when the original started there."""
    tokens = block_tokens(chunk.text)
    items = [(t.map[0], t.map[1]) for t in tokens if t.type == "list_item_open" and t.level == 1 and t.map]
    if len(items) < 2:
        return [chunk]
    groups: list[Chunk] = []
    for start, end in items:
        lines = chunk.lines[start:end]
        while lines and not lines[-1].strip():
            lines.pop()
        body = re.sub(r"^\s*([*+-]|\d+[.)])\s*", "", "\n".join(lines))
        if not body.strip():
            report.note(path, chunk.line + start, "dropped an empty list item")
            continue
        lang = detector.language(body)
        if groups and lang in (groups[-1].lang, None):
            groups[-1].lines.extend(lines)
        else:
            groups.append(Chunk("prose", list(lines), chunk.line + start, lang))
    if len(groups) < 2:
        return [Chunk("prose", chunk.lines, chunk.line)] if groups else []
    report.note(path, chunk.line, f"a list changes language halfway: split into {len(groups)} lists")
    first = ORDERED_ITEM.match(chunk.lines[0])
    if first and first.group(2) == "1":
        for group in groups[1:]:
            head = ORDERED_ITEM.match(group.lines[0])
            if head and head.group(2) != "1":
                group.lines = [_renumber(ln, len(head[1]), int(head[2]) - 1) for ln in group.lines]
                report.note(path, group.line, f"renumbered the {group.lang} list to start at 1")
    return groups


def _renumber(line: str, indent: int, offset: int) -> str:
    """An item of an ordered list at ``indent``, its number lowered by ``offset``; any other line as is."""
    item = ORDERED_ITEM.match(line)
    if not item or len(item[1]) != indent:
        return line
    return f"{item[1]}{int(item[2]) - offset}{item[3]}{item[4]}{line[item.end():]}"


# -- writing the chapter --------------------------------------------------------------------------------


@dataclass
class Unit:
    """One passage of the output: a block per language that has one."""

    blocks: dict[str, Chunk]


Item = Chunk | Unit


def render(items: list[Item], settings: Settings, reviewed: bool) -> str:
    out: list[str] = []
    previous: Item | None = None
    for item in items:
        glued = isinstance(item, Chunk) and item.kind == "marker" and isinstance(previous, Chunk) \
            and previous.line + len(previous.lines) == item.line
        previous = item
        if glued:  # a label right under its equation or figure stays there
            out[-1] += "\n" + item.text
            continue
        if isinstance(item, Chunk):
            out.append(item.text)
            continue
        for lang in settings.language_codes:
            block = item.blocks.get(lang)
            if block is None:
                continue
            draft = [":draft:"] if lang != settings.source_language and not reviewed \
                and settings.source_language in item.blocks else []
            out.append("\n".join([f":begin_lang:`{lang}`", *draft, block.text, ":end_lang:"]))
    return "\n\n".join(out) + "\n"


def interleaved(items: list[Chunk], settings: Settings) -> list[Item]:
    """Pair each source block with the translation right after it; everything else stays in place,
    alone in its language. The labels of a heading pair go after the pair; those of a heading with
    no partner go inside its language block, so that the edition showing it as a fallback has them."""
    source = settings.source_language
    found: list[Item] = []
    index = 0
    while index < len(items):
        chunk = items[index]
        index += 1
        if not chunk.is_prose:
            found.append(chunk)
            continue
        unit = Unit({chunk.lang: chunk})  # type: ignore[dict-item]
        found.append(unit)
        labels: list[Chunk] = []
        while chunk.kind == "heading" and index < len(items) and _is_label(items[index]):
            labels.append(items[index])
            index += 1
        partner = items[index] if index < len(items) else None
        if chunk.lang == source and partner is not None and partner.is_prose and partner.lang != source \
                and partner.kind == chunk.kind:
            unit.blocks[partner.lang] = partner  # type: ignore[index]
            index += 1
            while chunk.kind == "heading" and index < len(items) and _is_label(items[index]):
                labels.append(items[index])
                index += 1
            found.extend(labels)
        else:
            chunk.lines += [label.lines[0] for label in labels]
    return found


def _is_label(chunk: Chunk) -> bool:
    return chunk.kind == "marker" and chunk.lines[0].lstrip().startswith(":label:")


def _tab_wrapped(items: list[Chunk], path: Path, report: Report) -> list[Chunk]:
    """A framework block holding prose goes inside the language block: ``:begin_tab:`` … ``:end_tab:``
    around prose of one language becomes one prose chunk of that language (one per language when the
    block holds both)."""
    found: list[Chunk] = []
    index = 0
    while index < len(items):
        chunk = items[index]
        if chunk.kind == "marker" and chunk.lines[0].lstrip().startswith(":begin_tab:"):
            end = next((j for j in range(index + 1, len(items)) if items[j].kind == "marker"
                        and items[j].lines[0].lstrip().startswith(":end_tab:")), None)
            inner = items[index + 1: end] if end is not None else []
            if end is not None and inner and all(c.kind in ("prose", "neutral") for c in inner):
                by_lang: dict[str | None, list[Chunk]] = {}
                for part in inner:
                    by_lang.setdefault(part.lang if part.kind == "prose" else None, []).append(part)
                langs = [lang for lang in by_lang if lang is not None]
                if not langs:
                    found.extend(items[index: end + 1])
                else:
                    if len(langs) > 1:
                        report.note(path, chunk.line, "a framework block holds two languages: split in one "
                                    "per language")
                    for lang in langs:
                        parts = by_lang[lang] + (by_lang.get(None, []) if lang == langs[0] else [])
                        body = [chunk.lines[0], *"\n\n".join(p.text for p in parts).split("\n"),
                                items[end].lines[0]]
                        found.append(Chunk("prose", body, chunk.line, lang))
                index = end + 1
                continue
        found.append(chunk)
        index += 1
    return found


def aligned(en: list[Chunk], pt: list[Chunk], en_path: Path, pt_path: Path, settings: Settings,
            report: Report) -> list[Item]:
    """Two monolingual files, aligned on their anchors; the prose between two aligned anchors is paired."""
    source, target = settings.source_language, _other(settings)

    def split(chunks_: list[Chunk]) -> tuple[list[Chunk], list[list[Chunk]]]:
        anchors, prose, current = [], [], []
        for chunk in chunks_:
            if chunk.kind in ("prose", "neutral"):
                current.append(chunk)
            else:
                anchors.append(chunk)
                prose.append(current)
                current = []
        prose.append(current)  # after the last anchor
        return anchors, prose

    en_anchors, en_prose = split(en)
    pt_anchors, pt_prose = split(pt)
    matcher = difflib.SequenceMatcher(None, [a.key() for a in en_anchors], [a.key() for a in pt_anchors],
                                      autojunk=False)
    opcodes = matcher.get_opcodes()
    matched = sum(i2 - i1 for op, i1, i2, _, _ in opcodes if op == "equal")
    if matched < MIN_ALIGNED * max(len(en_anchors), len(pt_anchors)):
        raise BookError([Diagnostic(pt_path, pt_anchors[0].line if pt_anchors else 1, f"aligns nowhere with "
                                    f"{en_path}: only {matched} of its {len(pt_anchors)} headings, code cells, "
                                    f"labels and equations match the {len(en_anchors)} there, in order")])
    found: list[Item] = []

    def pair_prose(ens: list[Chunk], pts: list[Chunk]) -> None:
        if len(ens) == len(pts):
            found.extend(Unit({source: e, target: p}) for e, p in zip(ens, pts, strict=True))
            return
        if ens and pts:
            report.note(en_path, ens[0].line, f"{_count(len(ens), 'block')} here and {_count(len(pts), 'block')} "
                        f"in {pt_path}:{pts[0].line}: paired as one passage")
            found.append(Unit({source: _joined(ens), target: _joined(pts)}))
            return
        for chunk in ens:
            found.append(Unit({source: chunk}))
        for chunk in pts:
            report.note(pt_path, chunk.line, f"paragraph with no counterpart in {en_path}: kept in {target} only")
            found.append(Unit({target: chunk}))

    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            for k in range(i2 - i1):
                a, b = en_anchors[i1 + k], pt_anchors[j1 + k]
                pair_prose(en_prose[i1 + k], pt_prose[j1 + k])
                if a.kind == "heading":
                    found.append(Unit({source: a, target: b}))
                    continue
                if translation.normalise(a.text) != translation.normalise(b.text):
                    report.note(en_path, a.line, f"differs from {pt_path}:{b.line}: kept this file's "
                                f"{'code' if a.kind == 'code' else a.kind}")
                found.append(a)
            continue
        for k in range(i1, i2):
            pair_prose(en_prose[k], [])
            a = en_anchors[k]
            report.note(en_path, a.line, f"{_what(a)} has no counterpart in {pt_path}")
            found.append(Unit({source: a}) if a.kind == "heading" else a)
        for k in range(j1, j2):
            pair_prose([], pt_prose[k])
            b = pt_anchors[k]
            if b.kind == "heading":
                report.note(pt_path, b.line, f"heading has no counterpart in {en_path}: kept in {target} only")
                found.append(Unit({target: b}))
            else:
                report.note(pt_path, b.line, f"{_what(b)} has no counterpart in {en_path}: left out "
                            "(the English file's code and structure are kept)")
    pair_prose(en_prose[-1], pt_prose[-1])
    return found


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _what(chunk: Chunk) -> str:
    return {"code": "code cell", "math": "equation", "marker": "marker", "fence": "fenced block"}.get(
        chunk.kind, chunk.kind)


def _joined(parts: list[Chunk]) -> Chunk:
    return Chunk("prose", "\n\n".join(p.text for p in parts).split("\n"), parts[0].line, parts[0].lang)


def _other(settings: Settings) -> str:
    return settings.translations[0]


# -- the command --------------------------------------------------------------------------------------------


def import_chapter(source: Path, out: Path, settings: Settings, *, translation_file: Path | None = None,
                   reviewed: bool = False, force: bool = False) -> Report:
    """Import and write ``out`` and its lock atomically; a ``BookError`` leaves every file as it was."""
    report = Report()
    if out.suffix != ".md":
        raise BookError([Diagnostic(out, 1, "--out must name a markdown file (….md)")])
    if out.is_dir():
        raise BookError([Diagnostic(out, 1, "--out is a folder: name the chapter file")])
    if out.exists() and not force:
        raise BookError([Diagnostic(out, 1, "exists already: pass --force to replace it")])
    source_lines = repair(read_text(source).split("\n"), source, report)
    if any(line.startswith(":begin_lang:") for line in source_lines):
        raise BookError([Diagnostic(source, 1 + next(i for i, ln in enumerate(source_lines)
                                                     if ln.startswith(":begin_lang:")),
                                    "already has language blocks: it is a bilingual chapter")])
    detector = Detector(settings.language_codes)
    en = detect(chunks(source_lines), detector, settings, source, report)
    if not any(c.is_prose or c.kind == "code" for c in en):
        raise BookError([Diagnostic(source, 1, "nothing to import: no prose and no code")])
    if translation_file is None:
        items = interleaved(_tab_wrapped(en, source, report), settings)
    else:
        pt_lines = repair(read_text(translation_file).split("\n"), translation_file, report)
        target = _other(settings)
        pt = chunks(pt_lines)
        for chunk in en:
            if chunk.kind == "neutral":
                chunk.kind = "prose"
            if chunk.is_prose:
                chunk.lang = settings.source_language
        for chunk in pt:
            if chunk.is_prose:
                chunk.lang = target
        items = aligned(_tab_wrapped(en, source, report), _tab_wrapped(pt, translation_file, report),
                        source, translation_file, settings, report)
    for item in items:
        if isinstance(item, Unit) and len(item.blocks) < len(settings.language_codes):
            (lang, block), = item.blocks.items()
            path = translation_file if translation_file and lang != settings.source_language else source
            missing = ", ".join(repr(code) for code in settings.language_codes if code != lang)
            report.note(path, block.line, f"{lang!r} {'heading' if block.kind == 'heading' else 'block'} "
                        f"with no partner: kept alone, its {missing} is missing")
    text = render(items, settings, reviewed)
    chapter = read_chapter(out, settings, text=text)
    if chapter.diagnostics:
        raise BookError([Diagnostic(source, 1, f"the imported chapter would not read cleanly: {d}")
                         for d in chapter.diagnostics])
    lock = translation.Lock(translation.lock_path(out.resolve()))
    records = translation.confirmed_records(chapter, settings, lock, None, everything=True)
    contents = {out: text}
    if any(records.values()):
        contents[lock.path] = translation.dumps_lock(chapter.name, records)
    write_all(contents)
    report.notes.sort(key=lambda d: (str(d.path), d.line))
    return report
