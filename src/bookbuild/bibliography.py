"""The book's bibliography: the BibTeX files that ``bibtex_bibfiles`` in _config.yml names, read with
pybtex (the parser sphinxcontrib-bibtex itself uses).

Three stages read it:

- ``check``: every cited key must be in a file, and every cited entry must format (an entry without
  the fields its type needs makes Sphinx warn); a broken file is reported at its line.
- the notebooks: a citation has no Sphinx there, so it is written out the way the HTML shows it,
  "(Glorot and Bengio, 2010)", linked to its entry on the online edition's bibliography page.
- the editions: site.py copies the files and adds a bibliography page (sphinx_citations.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .model import Diagnostic
from .texts import text

PAGE = "bibliography"  # the bibliography page, at the root of each edition
ENTRY = re.compile(r"^\s*@\s*(\w+)\s*[{(]\s*([^,\s]+)\s*,", re.MULTILINE)


@dataclass(frozen=True)
class Work:
    """A cited work, as far as a citation shows it."""

    key: str
    authors: tuple[str, ...]  # last names, as a reader sees them ("Glorot", "Bengio")
    year: str
    file: Path  # as an author types it, for messages
    line: int


@dataclass
class Bibliography:
    works: dict[str, Work] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)
    unformatted: dict[str, str] = field(default_factory=dict)  # key → why the entry cannot be shown


def _plain(latex: str) -> str:
    """The text a reader sees: LaTeX accents decoded, braces gone ("K{\\"o}pf" is "Köpf"). (str(),
    not ``render_as("text")``, which looks its backend up among every installed package's entry
    points, each time.)"""
    from pybtex.richtext import Text

    return str(Text.from_latex(latex))


def _last_names(person) -> str:
    return " ".join(_plain(part) for part in (*person.prelast_names, *person.last_names))


@lru_cache(maxsize=8)
def _read(path: Path, shown: Path, stamp: tuple[int, int]) -> Bibliography:
    """One BibTeX file (cached by its modification time and size: a build reads it in every stage)."""
    import pybtex.database
    import pybtex.errors
    from pybtex.scanner import PybtexSyntaxError

    found = Bibliography()
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        found.problems.append(Diagnostic(shown, None, "no such file: _config.yml names it in bibtex_bibfiles"))
        return found
    except (OSError, UnicodeDecodeError) as error:
        found.problems.append(Diagnostic(shown, None, f"cannot be read as UTF-8 text: {error}"))
        return found
    lines: dict[str, int] = {}
    for match in ENTRY.finditer(raw):
        if match[1].lower() in ("comment", "preamble", "string"):
            continue
        line = raw.count("\n", 0, match.start(2)) + 1
        key = match[2]
        if key.lower() in {k.lower() for k in lines}:
            first = next(v for k, v in lines.items() if k.lower() == key.lower())
            found.problems.append(Diagnostic(shown, line, f"entry {key!r} is defined twice (first at line {first})"))
            continue
        lines[key] = line
    if found.problems:
        return found
    strict = pybtex.errors.strict
    pybtex.errors.set_strict_mode(True)
    try:
        data = pybtex.database.parse_string(raw, "bibtex")
    except PybtexSyntaxError as error:
        message = str(error).split(": ", 1)[-1]  # "syntax error in line 9: premature end of file"
        found.problems.append(Diagnostic(shown, error.lineno, f"BibTeX syntax error: {message}"))
        return found
    except Exception as error:  # pybtex's other complaints about the data
        found.problems.append(Diagnostic(shown, None, f"BibTeX: {error}"))
        return found
    finally:
        pybtex.errors.set_strict_mode(strict)
    style = _formatting_style()
    for key, entry in data.entries.items():
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        found.works[key] = Work(key, tuple(_last_names(p) for p in persons), _plain(entry.fields.get("year", "")),
                                shown, lines.get(key, 1))
        try:
            style.format_entry(key, entry)
        except Exception as error:  # FieldIsMissing, mostly: Sphinx would warn
            found.unformatted[key] = str(error)
    return found


@lru_cache(maxsize=1)
def _formatting_style():
    from pybtex.plugin import find_plugin

    return find_plugin("pybtex.style.formatting", "plain")()


def load(root: Path, files: tuple[str, ...]) -> Bibliography:
    """Every work of the book's BibTeX files (``bibtex_bibfiles``, relative to the book's root)."""
    merged = Bibliography()
    for name in files:
        path = root / name
        try:
            status = path.stat()
            stamp = (status.st_mtime_ns, status.st_size)
        except OSError:
            stamp = (0, 0)
        part = _read(path, Path(name), stamp)
        merged.problems.extend(part.problems)
        merged.unformatted.update(part.unformatted)
        for key, work in part.works.items():
            if key in merged.works:
                first = merged.works[key]
                merged.problems.append(Diagnostic(work.file, work.line, f"entry {key!r} is also defined at "
                                                  f"{first.file}:{first.line}"))
            else:
                merged.works[key] = work
    return merged


def authors(work: Work, lang: str) -> str:
    """"Glorot", "Glorot and Bengio", "He et al.", as the editions' referencing style words them."""
    names = work.authors
    if not names:
        return work.key
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} {text(lang, 'citation_and')} {names[1]}"
    return f"{names[0]} {text(lang, 'citation_et_al')}"


def cite_anchor(key: str) -> str:
    """The id sphinxcontrib-bibtex gives the entry (``bibtex_cite_id: cite-{key}``, through docutils)."""
    from docutils.nodes import make_id

    return make_id(f"cite-{key}")


def plain_citation(keys: list[str], textual: bool, lang: str, works: dict[str, Work], page: str | None) -> str:
    """A citation as markdown: "(Glorot and Bengio, 2010; He et al., 2015)", or for ``:citet:``
    "Glorot and Bengio (2010)"; each linked to its entry on ``page`` (the online bibliography), if any."""
    def link(shown: str, key: str) -> str:
        return f"[{shown}]({page}#{cite_anchor(key)})" if page else shown

    pieces = []
    for key in keys:
        work = works.get(key)
        if work is None:
            pieces.append(f"`{key}`")
        elif textual:
            pieces.append(f"{authors(work, lang)} ({link(work.year, key)})")
        else:
            pieces.append(link(f"{authors(work, lang)}, {work.year}", key))
    return ", ".join(pieces) if textual else f"({'; '.join(pieces)})"
