"""Read a chapter in the d2lbook dialect, extended with language blocks, into the document model.

The dialect, line by line:

- ```` ```{.python .input} ```` opens a code cell; a first line ``#@tab pytorch, tensorflow`` (or
  ``#@tab all``) picks its frameworks, and a cell without one belongs to the first framework, as in
  d2lbook. Leading ``#@varies``, ``#@raises`` and ``#@solution`` lines mark the cell for the tests
  and the site.
- ``:begin_lang:`en``` … ``:end_lang:`` holds prose for one language; ``:begin_tab:`pytorch```
  … ``:end_tab:`` prose for some frameworks. Framework blocks may sit inside language blocks.
- ``:label:`name``` names the heading (or figure) just before it, in every language at once;
  ``:eqlabel:`name``` names the display equation before it. ``:numref:`` and ``:eqref:`` refer.

Every syntax error of the file is collected, so that ``check`` can report them all at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .model import Chapter, Code, Diagnostic, OutlineEntry, Prose, Reference, Target
from .settings import Settings

CODE_FENCE = re.compile(r"^```\s*\{\.python\s+\.input\b[^}]*\}\s*$")
OTHER_FENCE = re.compile(r"^(`{3,}|~{3,})")
BEGIN = re.compile(r"^:begin_(tab|lang):`([^`]*)`\s*$")
END = re.compile(r"^:end_(tab|lang):\s*$")
LABEL = re.compile(r"^:(label|eqlabel):`([^`]+)`\s*$")
ROLE = re.compile(r":(numref|eqref):`([^`]+)`")
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
FIGURE = re.compile(r"^!\[(?P<caption>[^\]]*)\]\((?P<path>[^)\s]+)\)\s*$")
STRAY_MARKER = re.compile(r":(begin|end)_(tab|lang):")
TAB_LINE = re.compile(r"# *@tab +([\w, ]+)")  # d2lbook's own patterns, so that cells go where
TAB_MAGIC = re.compile(r"%%tab +([\w, ]+)")  # d2lbook puts them
BRANCH_MARK, OLD_BRANCH_MARK = "tab.selected", "d2l.USE_"
CELL_MARKERS = {"varies", "raises", "solution"}
D2L_CELL_MARKERS = {"save"}  # kept in the code, as d2lbook readers know it


@dataclass
class _Block:
    """A block being read: mutable until the whole file has been seen, because a later
    ``:label:`` line inserts an anchor into the heading it names."""

    lines: list[str]
    line: int
    lang: str | None
    frameworks: frozenset[str] | None


@dataclass
class _Slot:
    """A place a later label can name: a heading, a figure or an equation inside a block."""

    block: _Block
    index: int
    kind: str


@dataclass
class _Reader:
    path: Path
    settings: Settings
    items: list[_Block | Code] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lang: tuple[str, int] | None = None  # open language block: code and line
    tab: tuple[frozenset[str], int] | None = None  # open framework block
    prose: _Block | None = None
    # Headings and figures seen since the last code cell or label, by language (None: shared).
    slots: dict[str | None, _Slot] = field(default_factory=dict)
    equation: _Slot | None = None
    in_math: bool = False
    headings: list[OutlineEntry] = field(default_factory=list)
    # Language blocks with nothing but blank lines between them form a run: (language, line).
    language_runs: list[list[tuple[str, int]]] = field(default_factory=list)
    run_open: bool = False  # the last thing read was the end of a language block
    # Frameworks named by a `#@tab` line or a `:begin_tab:` block (not by `all`), as d2lbook counts.
    named_frameworks: set[str] = field(default_factory=set)

    def error(self, line: int, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.path, line, message))

    # -- prose ---------------------------------------------------------------------------------
    def add_prose_line(self, text: str, number: int) -> None:
        lang = self.lang[0] if self.lang else None
        frameworks = self.tab[0] if self.tab else None
        if self.prose is None or (self.prose.lang, self.prose.frameworks) != (lang, frameworks):
            self.close_prose()
            if not text.strip():
                return  # blank lines between blocks belong to no block
            self.prose = _Block([], number, lang, frameworks)
            self.items.append(self.prose)
        for match in ROLE.finditer(text):
            self.references.append(Reference(match.group(2).strip(), number, match.group(1)))
        text = ROLE.sub(_myst_role, text)
        index = len(self.prose.lines)
        if heading := HEADING.match(text):
            self.headings.append(OutlineEntry(number, lang, len(heading.group(1)), heading.group(2)))
            self.slots[lang] = _Slot(self.prose, index, "heading")
        elif FIGURE.match(text):
            self.slots[lang] = _Slot(self.prose, index, "figure")
        if "$$" in text:
            self.in_math ^= text.count("$$") % 2 == 1
            if not self.in_math:
                self.equation = _Slot(self.prose, index, "equation")
        self.prose.lines.append(text)

    def close_prose(self) -> None:
        if self.prose is not None:
            while self.prose.lines and not self.prose.lines[-1].strip():
                self.prose.lines.pop()
        self.prose = None

    # -- markers -------------------------------------------------------------------------------
    def begin(self, kind: str, argument: str, number: int) -> None:
        self.close_prose()
        names = [name.strip() for name in argument.split(",") if name.strip()]
        if kind == "lang":
            if self.lang:
                self.error(number, f"language block opened inside the one opened at line {self.lang[1]}")
                return
            if self.tab:
                self.error(number, f"language block inside the framework block opened at line {self.tab[1]} "
                           "(framework blocks go inside language blocks, not around them)")
                return
            if len(names) != 1 or names[0] not in self.settings.language_codes:
                self.error(number, f"unknown language {argument!r} (expected one of "
                           f"{', '.join(self.settings.language_codes)})")
                names = [names[0] if names else "?"]
            self.lang = (names[0], number)
            if not self.run_open:
                self.language_runs.append([])
            self.language_runs[-1].append((names[0], number))
        else:
            if self.tab:
                self.error(number, f"framework block opened inside the one opened at line {self.tab[1]}")
                return
            self.tab = (frozenset(self.frameworks(names, number)), number)

    def end(self, kind: str, number: int) -> None:
        self.close_prose()
        if kind == "lang":
            if self.tab and self.lang:
                self.error(self.tab[1], "framework block not closed before the end of its language block")
                self.tab = None
            if not self.lang:
                self.error(number, "stray :end_lang: with no open language block")
            self.lang = None
            self.run_open = True
            return
        else:
            if not self.tab:
                self.error(number, "stray :end_tab: with no open framework block")
            self.tab = None

    def frameworks(self, names: list[str], number: int) -> list[str]:
        known = self.settings.framework_names
        if names == ["all"]:
            return list(known)
        for name in names:
            if name == "all":
                self.error(number, "`all` stands alone: it cannot be combined with framework names")
            elif name not in known:
                self.error(number, f"unknown framework {name!r} (expected one of {', '.join(known)} or all)")
        chosen = [name for name in names if name in known]
        if not names:
            self.error(number, "no framework named: this block belongs to no framework")
        self.named_frameworks.update(chosen)
        return chosen

    def label(self, kind: str, name: str, number: int) -> None:
        self.close_prose()
        if kind == "eqlabel":
            if self.equation is None:
                self.error(number, f"equation label {name!r} does not follow a $$ display equation")
                return
            block, index = self.equation.block, self.equation.index
            block.lines[index] = f"{block.lines[index].rstrip()} ({name})"
            self.targets.append(Target(name, number, "equation"))
            self.equation = None
            return
        # A label inside a language block names that language's heading; outside, it names the
        # heading of every language just before it, so that one label serves both editions.
        langs = [self.lang[0]] if self.lang else list(self.slots)
        slots = [self.slots[lang] for lang in langs if lang in self.slots]
        if not slots:
            self.error(number, f"label {name!r} names nothing: put it right after a heading or a figure")
            return
        if not self.lang and None not in self.slots:
            missing = [code for code in self.settings.language_codes if code not in self.slots]
            if missing and len(missing) < len(self.settings.language_codes):
                self.error(number, f"label {name!r} names a heading in {', '.join(sorted(set(self.slots) - {None}))} "
                           f"but none in {', '.join(missing)}")
        kinds = {slot.kind for slot in slots}
        for slot in slots:
            _anchor(slot, name)
        self.targets.append(Target(name, number, "section" if "heading" in kinds else "figure"))
        for lang in langs:
            self.slots.pop(lang, None)

    # -- code ----------------------------------------------------------------------------------
    def code(self, lines: list[str], number: int) -> None:
        self.close_prose()
        self.slots.clear()
        self.equation = None
        source = "\n".join(lines)
        if "%load_ext d2lbook.tab" in source:
            return  # d2lbook 1.0's set-up cell, which d2lbook drops from every notebook
        # As d2lbook: the first `#@tab` (or `%%tab`) line anywhere in the cell picks the frameworks.
        tab = TAB_LINE.search(source) or TAB_MAGIC.search(source)
        frameworks = [self.settings.default_framework]
        numbered = list(enumerate(lines, start=number + 1))  # (line in the chapter, text)
        if tab:
            at = number + 1 + source[:tab.start()].count("\n")
            names = [name.strip() for name in tab.group(1).split(",") if name.strip()]
            frameworks = self.frameworks(names, at)
            numbered = [(n, line) for n, line in numbered if not (TAB_LINE.search(line) or TAB_MAGIC.search(line))]
        markers: set[str] = set()
        while numbered and numbered[0][1].strip().startswith("#@"):
            at, line = numbered[0]
            word = line.strip()[2:].split(" ")[0].rstrip(":")
            if word in D2L_CELL_MARKERS:
                break
            if word == "tab":  # a `#@tab` line that names nothing: d2lbook's pattern skips it
                frameworks = self.frameworks([], at)
            elif word in CELL_MARKERS:
                markers.add(word)
            else:
                self.error(at, f"unknown cell marker #@{word} (expected #@tab, "
                           f"{', '.join('#@' + m for m in sorted(CELL_MARKERS))})")
            numbered = numbered[1:]
        lines = [line for _, line in numbered]
        if self.tab:
            self.error(number, f"code cell inside the framework block opened at line {self.tab[1]}: "
                       "mark the cell with #@tab instead")
        if self.lang:
            self.error(number, f"code cell inside the language block opened at line {self.lang[1]}: "
                       "code is shared by every language")
        if not frameworks:
            self.error(number, "code cell belongs to no known framework")
            return
        order = self.settings.framework_names
        frameworks = sorted(set(frameworks), key=order.index)
        source = "\n".join(lines)
        # A cell that branches on the framework (d2lbook's `tab.selected`) is one cell per framework.
        per_framework = [(tuple(frameworks), source)]
        if BRANCH_MARK in source or OLD_BRANCH_MARK in source:
            per_framework = [((f,), select_branches(lines, f)) for f in frameworks]
        for chosen, text in per_framework:
            self.items.append(Code(
                source=text.strip("\n"),
                line=number,
                frameworks=chosen,
                varies="varies" in markers,
                raises="raises" in markers,
                solution="solution" in markers,
            ))

    # -- the whole file ------------------------------------------------------------------------
    def read(self, text: str) -> None:
        lines = text.splitlines()
        number = 0
        while number < len(lines):
            line = lines[number]
            number += 1
            if line.strip() and not END.match(line) and not BEGIN.match(line):
                self.run_open = False  # anything but a blank line ends a run of language blocks
            if CODE_FENCE.match(line):
                start = number
                body = []
                while number < len(lines) and lines[number].strip() != "```":
                    body.append(lines[number])
                    number += 1
                if number == len(lines):
                    self.error(start, "code cell is never closed (no ``` line)")
                    return
                number += 1
                self.code(body, start)
            elif fence := OTHER_FENCE.match(line):
                # A plain fenced block (an example, a ```toc list): its content is taken as is,
                # but for d2l's ```toc list, which becomes Jupyter Book's table of contents (whose
                # entries come from _toc.yml).
                start = number
                toc = line.strip() == "```toc"
                self.add_prose_line("```{tableofcontents}" if toc else line, number)
                while number < len(lines) and not lines[number].startswith(fence.group(1)):
                    if not toc:
                        self.prose.lines.append(lines[number])  # type: ignore[union-attr]
                    number += 1
                if number == len(lines):
                    self.error(start, f"fenced block {fence.group(1)} is never closed")
                    return
                self.prose.lines.append(lines[number])  # type: ignore[union-attr]
                number += 1
            elif match := BEGIN.match(line):
                self.begin(match.group(1), match.group(2), number)
            elif match := END.match(line):
                self.end(match.group(1), number)
            elif match := LABEL.match(line.strip()):
                self.label(match.group(1), match.group(2).strip(), number)
            elif STRAY_MARKER.search(line):
                self.error(number, f"block marker must stand alone on its line: {line.strip()!r}")
            else:
                self.add_prose_line(line, number)
        self.close_prose()
        if self.tab:
            self.error(self.tab[1], "framework block is never closed (no :end_tab:)")
        if self.lang:
            self.error(self.lang[1], "language block is never closed (no :end_lang:)")


def select_branches(lines: list[str], framework: str) -> str:
    """One framework's version of a cell that branches with ``if tab.selected('pytorch'):``
    (or d2l 0.x's ``if d2l.USE_PYTORCH:``): the matching branches lose their ``if`` and one level
    of indentation, the others disappear. These are d2lbook's rules, including their limits: no
    ``else``, four-space indentation."""
    new_style = any(BRANCH_MARK in line for line in lines)
    kept: list[str] = []
    mode, indent = "outside", 0
    for line in lines:
        depth = len(line) - len(line.lstrip())
        if "if" in line and (BRANCH_MARK if new_style else OLD_BRANCH_MARK) in line:
            selected = (f"'{framework}'" in line or f'"{framework}"' in line) if new_style \
                else f"{OLD_BRANCH_MARK}{framework.upper()}" in line
            mode, indent = ("kept" if selected else "dropped"), depth
            continue
        if mode != "outside" and line.strip() and depth <= indent:
            mode = "outside"
        if mode == "outside":
            kept.append(line)
        elif mode == "kept":
            kept.append(line[4:])
    return "\n".join(kept)


def _myst_role(match: re.Match[str]) -> str:
    role = {"numref": "numref", "eqref": "eq"}[match.group(1)]
    return f"{{{role}}}`{match.group(2)}`"


def _anchor(slot: _Slot, name: str) -> None:
    lines = slot.block.lines
    if slot.kind == "heading":
        lines.insert(slot.index, f"({name})=")
    else:
        figure = FIGURE.match(lines[slot.index])
        assert figure is not None
        lines[slot.index] = (f"```{{figure}} {figure['path']}\n:name: {name}\n\n"
                             f"{figure['caption']}\n```")


def read_chapter(path: Path, settings: Settings, text: str | None = None) -> Chapter:
    """Read one chapter. Syntax errors land in ``chapter.diagnostics``; nothing is raised."""
    if text is None:
        text = path.read_text(encoding="utf-8")
    absolute = path.resolve()
    # Errors name the file as an author types it: relative to the book's root where it lies there.
    shown = absolute.relative_to(settings.root) if absolute.is_relative_to(settings.root) else path
    reader = _Reader(path=shown, settings=settings)
    reader.read(text)
    in_book = absolute.is_relative_to(settings.chapters_dir)
    name = absolute.relative_to(settings.chapters_dir).with_suffix("").as_posix() if in_book else path.stem
    blocks = [
        item if isinstance(item, Code)
        else Prose("\n".join(item.lines), item.line, item.lang, item.frameworks)
        for item in reader.items
    ]
    return Chapter(path=shown, name=name, blocks=blocks, targets=reader.targets,
                   references=reader.references, headings=reader.headings,
                   language_runs=reader.language_runs, diagnostics=reader.diagnostics,
                   default_framework=settings.default_framework,
                   named_frameworks=frozenset(reader.named_frameworks))
