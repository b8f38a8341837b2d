"""The glossary as data (``glossary.yml``, see its header) and the check that keeps translations on it.

Two findings, both warnings at ``file:line``:

- an English passage uses a term and its translation uses none of the approved renderings;
- a translation's prose uses the English word of a term that has a translation of its own.

Inflections count: an English term matches its plural; a Portuguese one its plural and the other
gender, word by word ("camada densa" matches "camadas densas"). Code, math, link targets, roles
and *italicised* words are not prose, so ``nn.Linear``, ``$w$`` or a gloss like "(*checkpoint*)"
are never findings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from . import translation
from .files import load_yaml
from .model import BookError, Chapter, Diagnostic, LanguageBlock
from .settings import Settings

# Words that do not inflect inside a multi-word Portuguese term.
CONNECTORS = {"de", "da", "do", "das", "dos", "e", "em", "a", "o", "para", "com"}
NOT_PROSE = [
    re.compile(r"`[^`]*`"),  # inline code
    re.compile(r"\$\$.*?\$\$|\$[^$]*\$"),  # math
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r":\w+:`[^`]*`|\{\w+\}`[^`]*`"),  # roles
    re.compile(r"<[^>]+>|https?://\S+"),  # HTML tags, bare addresses
    re.compile(r"^\(\w[\w-]*\)=\s*$", re.MULTILINE),  # MyST targets
]
ITALIC = re.compile(r"(?<![*\w])\*(?!\*)[^*]+\*(?!\*)|(?<![_\w])_[^_]+_(?!\w)")


@dataclass(frozen=True)
class Term:
    english: tuple[str, ...]
    approved: tuple[str, ...]  # in the translation; the English itself for a term kept in English
    line: int  # in the glossary file

    @property
    def kept(self) -> bool:
        return any(_fold(a) == _fold(e) for a in self.approved for e in self.english)


@dataclass
class Glossary:
    path: Path  # as shown in messages
    terms: dict[str, list[Term]]  # by translation language
    problems: list[Diagnostic]


def load(settings: Settings) -> Glossary:
    """The glossary of ``settings.glossary``; problems in the file are errors at its lines."""
    empty = Glossary(Path("glossary.yml"), {}, [])
    if settings.glossary is None:
        return empty
    path = settings.glossary
    shown = path.relative_to(settings.root) if path.is_relative_to(settings.root) else path
    glossary = Glossary(shown, {}, [])

    def problem(line: int, message: str) -> Glossary:
        glossary.problems.append(Diagnostic(shown, line, message))
        return glossary

    if not path.is_file():
        return problem(1, "the glossary named in _config.yml (bookbuild.translation.glossary) is missing")
    try:
        loaded = load_yaml(path, shown)
    except BookError as error:
        glossary.problems.extend(error.diagnostics)
        return glossary
    data, node = loaded.data, loaded.node
    if not isinstance(data, dict) or node is None:
        return problem(1, "the glossary maps each translation language to a list of terms")
    for key_node, value_node in node.value:
        lang = str(key_node.value)
        if lang not in settings.translations:
            problem(key_node.start_mark.line + 1, f"{lang!r} is not a translation language of the book "
                    f"({', '.join(settings.translations)})")
            continue
        entries = data[lang]
        if not isinstance(entries, list):
            problem(value_node.start_mark.line + 1, f"{lang}: expected a list of terms")
            continue
        for entry, entry_node in zip(entries, value_node.value, strict=True):
            line = entry_node.start_mark.line + 1
            term = _term(entry, line, lang)
            if isinstance(term, str):
                problem(line, term)
            else:
                glossary.terms.setdefault(lang, []).append(term)
    return glossary


def _term(entry: object, line: int, lang: str) -> Term | str:
    if not isinstance(entry, dict) or "en" not in entry:
        return "a term needs `en` and either `pt` (its approved translations) or `keep: true`"
    english = _strings(entry["en"])
    approved = english if entry.get("keep") is True else _strings(entry.get(lang))
    if not english or not approved:
        return f"a term needs `en` and either `{lang}` (its approved translations) or `keep: true`"
    unknown = set(entry) - {"en", lang, "keep", "note"}
    if unknown:
        return f"unknown key(s) {', '.join(sorted(unknown))} (expected en, {lang}, keep, note)"
    return Term(english, approved, line)


def _strings(value: object) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    return tuple(str(v).strip() for v in values if isinstance(v, str) and v.strip())


# -- inflections ---------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def english_forms(term: str) -> set[str]:
    """The term and its plural (the last word inflects)."""
    words = _fold(term).split()
    last = words[-1]
    if last.endswith(("s", "x", "z", "ch", "sh")):
        plurals = {last, last + "es"}
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        plurals = {last, last[:-1] + "ies"}
    else:
        plurals = {last, last + "s"}
    return {" ".join([*words[:-1], p]) for p in plurals}


def portuguese_word_forms(word: str) -> set[str]:
    """A Portuguese word in both numbers and, where it has one, the other gender."""
    w = _fold(word)
    if w in CONNECTORS:
        return {w}
    bases = {w}
    if w.endswith("o") and not w.endswith("ão"):
        bases.add(w[:-1] + "a")
    elif w.endswith("a"):
        bases.add(w[:-1] + "o")
    elif w.endswith("or"):
        bases.add(w + "a")
    forms = set()
    for base in bases:
        forms.add(base)
        if base.endswith("ão"):
            forms |= {base[:-2] + "ões", base[:-2] + "ães", base[:-2] + "ãos"}
        elif base.endswith(("r", "z", "n")):
            forms.add(base + "es")
        elif base.endswith(("és", "ês")):
            forms.add(base[:-2] + "eses")
        elif base.endswith("s"):
            pass  # lápis, vírus: the same in the plural
        elif base.endswith("l"):
            forms.add(base[:-2] + "is" if base.endswith("il") else base[:-1] + "is")
        elif base.endswith("m"):
            forms.add(base[:-1] + "ns")
        else:
            forms.add(base + "s")
    return forms


@cache
def pattern(term: str, english: bool) -> re.Pattern[str]:
    """A case-insensitive regular expression for every inflection of ``term``."""
    if english:
        alternatives = "|".join(sorted((re.escape(f) for f in english_forms(term)), key=len, reverse=True))
        return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)
    words = [
        "(?:" + "|".join(sorted((re.escape(f) for f in portuguese_word_forms(w)), key=len, reverse=True)) + ")"
        for w in term.split()]
    return re.compile(r"(?<![\w-])" + r"\s+".join(words) + r"(?![\w-])", re.IGNORECASE)


# -- the check -------------------------------------------------------------------------------------------


def prose_lines(block: LanguageBlock, keep_italics: bool = True) -> list[tuple[int, str]]:
    """The block's lines with their line numbers in the chapter, blanked where they are not prose:
    fenced blocks, display math, code, math, link targets and (unless ``keep_italics``) italicised
    words, which may span lines."""
    numbers = [n for n in range(block.line + 1, block.end) if n != block.draft]
    lines, fence, in_math = [], None, False
    for line in block.text.split("\n"):
        stripped = line.strip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence, line = stripped[:3], ""
        elif fence is not None:
            fence, line = (None if stripped.startswith(fence) else fence), ""
        elif stripped.startswith("$$") and stripped.count("$$") == 1:
            in_math, line = not in_math, ""
        elif in_math:
            line = ""
        lines.append(line)
    text = "\n".join(lines)
    for pattern_ in [*NOT_PROSE, *([] if keep_italics else [ITALIC])]:
        text = pattern_.sub(lambda m: " " + "\n" * m.group(0).count("\n"), text)
    return list(zip(numbers, text.split("\n"), strict=False))


def english_words(terms: tuple[Term, ...], kept: bool) -> tuple[re.Pattern[str], dict[str, Term]]:
    """One expression for every inflected English form of the terms (with ``kept``, also those kept
    in English), and the term each form belongs to: a text is scanned once, not once per term. It
    finds overlapping terms too ("layer" inside "dense layer")."""
    owner = {form: term for term in terms if kept or not term.kept for english in term.english
             for form in english_forms(english)}
    alternatives = "|".join(sorted((re.escape(f).replace(r"\ ", r"\s+") for f in owner), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?=({alternatives})(?![\w-]))", re.IGNORECASE), owner


WORD = re.compile(r"[\w-]+")


def may_name(text: str, first_words: frozenset[str]) -> bool:
    """Whether a text has a word that starts one of the forms: the scan with the terms' expression
    tries every position of the text, so a passage that names no term is let go at once."""
    return not first_words.isdisjoint(WORD.findall(text.lower()))


def first_words(forms: dict[str, Term]) -> frozenset[str]:
    """The first word of each form, cut as ``may_name`` cuts a text ("GPU's" starts with "gpu")."""
    return frozenset(WORD.findall(form.lower())[0] for form in forms if WORD.search(form))


def check_chapter(chapter: Chapter, settings: Settings, glossary: Glossary) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for lang, terms in glossary.terms.items():
        if not terms:
            continue
        in_english, anywhere = english_words(tuple(terms), kept=True)
        in_translation, foreign = english_words(tuple(terms), kept=False)
        english_starts, foreign_starts = first_words(anywhere), first_words(foreign)
        for passage in translation.passages(chapter, settings):
            source, block = passage.blocks.get(settings.source_language), passage.blocks.get(lang)
            if block is None:
                continue
            if source is not None:
                english = " ".join(line for _, line in prose_lines(source))
                used: dict[Term, str] = {}
                for hit in in_english.finditer(english) if may_name(english, english_starts) else ():
                    used.setdefault(anywhere[" ".join(hit.group(1).lower().split())], hit.group(1))
                target = " ".join(line for _, line in prose_lines(block)) if used else ""
                for term in terms:
                    if term in used and not any(pattern(a, False).search(target) for a in term.approved):
                        found.append(Diagnostic(
                            chapter.path, block.line, f"glossary: the {settings.source_language!r} passage at "
                            f"line {source.line} says {used[term]!r}, and this {lang!r} translation uses none "
                            f"of {', '.join(repr(a) for a in term.approved)} ({glossary.path}:{term.line})",
                            warning=True))
            lines = prose_lines(block, keep_italics=False) if foreign else []
            if not may_name(" ".join(line for _, line in lines), foreign_starts):
                lines = []
            for number, line in lines:
                for hit in in_translation.finditer(line):
                    term = foreign[" ".join(hit.group(1).lower().split())]
                    found.append(Diagnostic(
                        chapter.path, number, f"glossary: {hit.group(1)!r} is English; this {lang!r} "
                        f"prose says {', '.join(repr(a) for a in term.approved)} "
                        f"({glossary.path}:{term.line})", warning=True))
    return found
