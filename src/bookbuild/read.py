"""Read a chapter in the d2lbook dialect, extended with language blocks, into the document model.

Reading is two steps, as in myst-nb's reader:

1. markdown-it-py, the parser MyST itself uses (with MyST's ``$$`` math rule), splits the text into
   block tokens, each with its lines (``token.map``): fences, display math, tables, headings,
   paragraphs, lists. One block rule of our own, ``marker_rule``, gives each marker line a token
   of its own, so that a marker ends a paragraph or a table as a heading would.
2. ``_Reader`` walks the top-level tokens. Markers open and close language and framework blocks
   and label what comes before them; ```` ```{.python .input} ```` fences are code cells;
   everything else is prose, kept line for line, with its headings, equations, figures, tables
   and references as data (see model.py).

The dialect's markers are defined in one table, ``MARKERS`` (and the code cells' ``#@`` markers in
``CELL_MARKERS``); docs/authoring.md describes the dialect for authors. Every problem becomes a
diagnostic at its line, so that ``check`` reports all of a file's problems at once: reading never
raises.
"""

from __future__ import annotations

import difflib
import functools
import gc
import itertools
import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from .files import decode, read_text
from .model import (
    BookError,
    Chapter,
    Citation,
    Code,
    Contents,
    Diagnostic,
    Equation,
    Figure,
    Heading,
    Inline,
    LanguageBlock,
    Markdown,
    OutlineEntry,
    Part,
    Prose,
    Reference,
    Rst,
    Table,
    Target,
)
from .settings import Settings

# The marker lines: `:name:` or `:name:`argument``, alone on a line. The value says what the
# argument is (for messages), None where the marker takes none. A marker is handled by the
# `_Reader` method `on_<name>`.
MARKERS: dict[str, str | None] = {
    "begin_lang": "a language code",
    "end_lang": None,
    "draft": None,  # first line of a translation's language block: not reviewed yet
    "begin_tab": "framework names",
    "end_tab": None,
    "label": "a label name",
    "eqlabel": "a label name",
    "width": "a size",  # of the figure just before, as in d2lbook
    "height": "a size",
    "alt": "a text that describes the image",  # of the figure just before, for readers who cannot see it
}
# The `#@` lines at the top of a code cell, besides `#@tab`; the value: what the argument is.
CELL_MARKERS: dict[str, str | None] = {
    "varies": None,  # the output differs between runs: not compared by nbval
    "raises": None,  # the cell demonstrates an error
    "solution": None,  # an exercise's solution, shown collapsed
    "timeout": "seconds",  # the cell may run this long, rather than the book's timeout
}
D2L_CELL_MARKERS = {"save"}  # kept in the code, as d2lbook readers know it

MARKER = re.compile(r":([a-z_]+):(?:`([^`]*)`)?")
NEAR_MARKER = re.compile(r":\s*([A-Za-z][A-Za-z_ -]{1,20}?)\s*:\s*(?:`([^`]*)`)?\s*(.*)")
MARKER_IN_TEXT = re.compile(r":\s?(begin_lang|end_lang|begin_tab|end_tab|label|eqlabel)\s?:")
ROLE = re.compile(r":(numref|eqref|cite|citet):`([^`]+)`")
NEAR_ROLE = re.compile(r":\s*(numref|eqref|cite|citet)\s*:\s*`([^`]*)`")
# References that Sphinx resolves inside an ```eval_rst block, to be checked like the others.
RST_ROLE = re.compile(r":(numref|ref|eq|cite(?::\w+)?):`(?:[^`<]*<)?([^`>]+)>?`")
MD_LINK = re.compile(r"(?![a-z][\w+.-]*:)[^#?]+\.md(#.*)?")  # a relative link to a markdown file
PANDOC_FENCE = re.compile(r"\{\s*\.([\w+-]+)[^}]*\}")  # ```{.json .output n=2}
# A label on the line of what it names (`![…](…) :label:`fig_x``), as some books write it.
TRAILING_LABEL = re.compile(r"\s+:(label|eqlabel):`([^`]+)`\s*$")
HTML_IMAGE = re.compile(r"<img\b[^>]*\bsrc=[\"']([^\"']+)[\"']")
CODE_INFO = re.compile(r"\{\.python\s+\.input\b[^}]*\}")
TAB_LINE = re.compile(r"# *@tab +([\w, ]+)")  # d2lbook's own patterns, so that cells go where
TAB_MAGIC = re.compile(r"%%tab +([\w, ]+)")  # d2lbook puts them
BRANCH_MARK, OLD_BRANCH_MARK = "tab.selected", "d2l.USE_"
LABEL_SUFFIX = re.compile(r"\s*\(([^()]+)\)\s*$")  # MyST's `$$ … $$ (label)`


@dataclass(frozen=True)
class MarkerLine:
    """What a marker line says; ``problem`` is set where it is malformed but its intent is clear."""

    name: str
    argument: str | None
    problem: str | None = None
    rest: str = ""  # text after the marker, on the same line (a problem, but it is still read)


@functools.lru_cache(maxsize=4096)  # marker lines repeat, and markdown-it asks about each line often
def parse_marker(line: str) -> MarkerLine | None:
    """The marker a line holds, if any. A near miss (``: end_tab:``, ``:begin_tab: `x```, text
    after the marker) is still read as the marker it means, with a problem that says how to fix it,
    so that one typo gives one message, not a cascade of unclosed blocks."""
    text = line.strip()
    if not text.startswith(":"):
        return None
    if (exact := MARKER.fullmatch(text)) and exact[1] in MARKERS:
        return _with_argument_checked(MarkerLine(exact[1], exact[2]))
    near = NEAR_MARKER.fullmatch(text)
    if not near:
        return None
    word = re.sub(r"[\s-]+", "_", near[1].strip().lower())
    names = [word] if word in MARKERS else difflib.get_close_matches(word, MARKERS, n=1, cutoff=0.8)
    if not names:
        return None
    meant = MarkerLine(names[0], near[2])
    written = f":{meant.name}:" + (f"`{meant.argument}`" if meant.argument is not None else "")
    if near[3]:
        problem = (f"text after the marker {written}: a marker stands alone on its line "
                   f"(move {near[3]!r} to a line of its own)")
    else:
        problem = f"malformed marker {text!r}: did you mean {written}?"
    return replace(meant, problem=problem, rest=near[3])


def _with_argument_checked(marker: MarkerLine) -> MarkerLine:
    wanted = MARKERS[marker.name]
    if wanted and marker.argument is None:
        return replace(marker, problem=f":{marker.name}: needs {wanted}: :{marker.name}:`…`")
    if not wanted and marker.argument is not None:
        return replace(marker, argument=None, problem=f":{marker.name}: takes no argument")
    return marker


def marker_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it block rule: a marker line is a block of its own (token ``d2l_marker``)."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False  # indented code
    begin = state.bMarks[start] + state.tShift[start]
    if begin >= state.eMarks[start] or state.src[begin] != ":":
        return False
    marker = parse_marker(state.src[begin:state.eMarks[start]])
    if marker is None:
        return False
    if not silent:
        token = state.push("d2l_marker", "", 0)
        token.map = [start, start + 1]
        token.meta = {"marker": marker}
        state.line = start + 1
    return True


def _parser() -> MarkdownIt:
    # Link definitions need no rule of their own: as paragraphs they are kept as written all the same.
    parser = MarkdownIt("commonmark").enable("table").disable("reference")
    dollarmath_plugin(parser)  # MyST's math rule: an equation is what Sphinx will see
    parser.block.ruler.before("table", "d2l_marker", marker_rule,
                              {"alt": ["paragraph", "reference", "blockquote", "list"]})
    return parser


PARSER = _parser()
RULE_LOGGERS = [f"markdown_it.rules_block.{rule}" for rule in ("blockquote", "code", "fence", "heading", "hr",
                                                               "html_block", "lheading", "list", "paragraph")]


class _LineState(StateBlock):
    """markdown-it's block state, with its line tables built a line at a time rather than a
    character at a time: the same tables (tests/test_read.py compares them), a fraction of the time
    on a long chapter."""

    def __init__(self, src: str, md: MarkdownIt, env: dict, tokens: list[Token]) -> None:
        super().__init__("", md, env, tokens)
        self.src = src
        lines = src.split("\n")
        if src.endswith("\n") or not lines[-1].strip(" \t"):
            lines.pop()  # no line after the last newline; markdown-it drops a last blank line too
        lengths = [len(line) for line in lines]
        self.tShift = [length - len(line.lstrip(" \t")) for line, length in zip(lines, lengths, strict=True)]
        self.sCount = [_columns(line[:indent]) if "\t" in line[:indent] else indent
                       for line, indent in zip(lines, self.tShift, strict=True)]
        self.bMarks = [0, *itertools.accumulate(length + 1 for length in lengths)][:len(lines)]
        self.eMarks = [begin + length for begin, length in zip(self.bMarks, lengths, strict=True)]
        for table in (self.bMarks, self.eMarks):
            table.append(len(src))
        for table in (self.tShift, self.sCount):
            table.append(0)
        self.bsCount = [0] * len(self.bMarks)
        self.lineMax = len(self.bMarks) - 1


def _columns(indent: str) -> int:
    """The width of leading spaces and tabs, a tab reaching the next multiple of 4 (CommonMark)."""
    width = 0
    for character in indent:
        width += 4 - width % 4 if character == "\t" else 1
    return width


def block_tokens(text: str) -> list[Token]:
    """The block tokens of a chapter (no inline parsing: the reader needs none, but for figures).

    markdown-it's block rules log a debug message each time they are tried, which is every rule at
    every line: a third of the time on a long chapter. Those messages are off while it reads."""
    tokens: list[Token] = []
    if not text:
        return tokens
    loggers = [logging.getLogger(name) for name in RULE_LOGGERS]
    quiet = [logger.disabled for logger in loggers]
    try:
        for logger in loggers:
            logger.disabled = True
        state = _LineState(text, PARSER, {}, tokens)
        PARSER.block.tokenize(state, state.line, state.lineMax)
    finally:
        for logger, disabled in zip(loggers, quiet, strict=True):
            logger.disabled = disabled
    return tokens


@dataclass
class _Block:
    """A prose block being read. Its parts stay replaceable until the whole file is read, because
    a later ``:label:`` names a heading or a figure in it."""

    line: int
    lang: str | None
    frameworks: frozenset[str] | None
    parts: list[Part] = field(default_factory=list)
    block: int | None = None  # its language block, by index in the chapter's language_blocks

    def add(self, part: Part, merge: bool = True) -> int:
        """Append a part (merging plain markdown with the one before); return its index."""
        if merge and part.__class__ is Markdown and self.parts and self.parts[-1].__class__ is Markdown:
            before, after = self.parts[-1].inline, part.inline
            if before[-1].__class__ is str and after[0].__class__ is str:  # the usual case: one string
                self.parts[-1] = Markdown((*before[:-1], f"{before[-1]}\n{after[0]}", *after[1:]))
            else:
                self.parts[-1] = Markdown(_join(before, after, separator="\n"))
        else:
            self.parts.append(part)
        return len(self.parts) - 1


@dataclass
class _Slot:
    """Something a later ``:label:`` (or ``:width:``) can name: a part in a block."""

    block: _Block
    index: int
    kind: str  # "section", "figure" or "table"


@dataclass
class _Reader:
    path: Path
    settings: Settings
    lines: list[str] = field(default_factory=list)
    items: list[_Block | Code] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    images: list[tuple[str, int]] = field(default_factory=list)
    directives: list[tuple[str, int]] = field(default_factory=list)  # ```{name} fences: MyST directives
    links: list[tuple[str, int]] = field(default_factory=list)  # links to other chapters' files
    headings: list[OutlineEntry] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lang: tuple[str, int] | None = None  # open language block: code and line
    tab: tuple[frozenset[str], int] | None = None  # open framework block
    prose: _Block | None = None
    cursor: int = 0  # lines before this one are read
    # Headings, figures and tables seen since the last code cell or label, by language (None: shared).
    slots: dict[str | None, _Slot] = field(default_factory=dict)
    equation: _Slot | None = None  # the display equation just read, for :eqlabel:
    figures: list[_Slot] = field(default_factory=list)  # the figure(s) just read or labelled, for :width:, :alt:
    caption: tuple[_Block, int, Inline] | None = None  # a `:Caption` paragraph, if a table follows
    previous_text: str = ""  # the paragraph just read, if that was a paragraph
    # Language blocks with nothing but blank lines between them form a run: (language, line).
    language_runs: list[list[tuple[str, int]]] = field(default_factory=list)
    run_open: bool = False  # the last thing read was the end of a language block
    # Frameworks named by a `#@tab` line or a `:begin_tab:` block (not by `all`), as d2lbook counts.
    named_frameworks: set[str] = field(default_factory=set)
    # The language blocks as written, for translation states, PO files and imports.
    language_blocks: list[LanguageBlock] = field(default_factory=list)
    draft: int | None = None  # the open language block's :draft: line
    seen_prose: bool = False  # the open language block has prose already

    def error(self, line: int, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.path, line, message))

    # -- the whole file ------------------------------------------------------------------------
    def read(self, text: str) -> None:
        self.lines = text.split("\n")
        self.groups(block_tokens(text))
        self.gap(len(self.lines), boundary=True)
        self.close_prose()
        if self.tab:
            self.error(self.tab[1], "framework block is never closed (no :end_tab:)")
        if self.lang:
            self.error(self.lang[1], "language block is never closed (no :end_lang:)")

    def groups(self, tokens: list[Token]) -> None:
        """Each top-level block in turn: a marker, a code cell, or prose (with what it holds)."""
        index, count, lines = 0, len(tokens), self.lines
        while index < count:
            first = tokens[index]
            start, end = first.map or (self.cursor, self.cursor)
            kind = first.type
            if kind == "d2l_marker":
                self.gap(start, boundary=True)
                self.marker(first.meta["marker"], start + 1)
                index += 1
            elif kind == "fence" and first.markup == "```" and CODE_INFO.fullmatch(first.info):
                self.gap(start, boundary=True)
                self.code(first, start + 1, end)
                index += 1
            else:
                after = index + 1
                if first.nesting == 1:  # a container: up to its closing token
                    depth = 1
                    while depth:
                        depth += tokens[after].nesting
                        after += 1
                while end > start + 1 and not lines[end - 1].strip():
                    end -= 1  # a list's lines end with the blank line after it: that is a gap
                self.gap(start, boundary=False)
                self.prose_group(tokens[index:after], start, end)
                index = after
            if end > self.cursor:
                self.cursor = end

    def gap(self, start: int, boundary: bool) -> None:
        """Lines no token covers: blank lines, which separate the parts of a prose block, and link
        definitions, which are prose. Blank lines at the edges of a prose block are not part of it."""
        first = self.cursor
        if start <= first:
            return
        if start == first + 1 and not self.lines[first].strip() and (boundary or not self.prose):
            self.cursor = start  # the usual gap: one blank line before a marker or a new block
            return
        lines = self.lines[first:start]
        self.cursor = start
        if not "".join(lines).strip():
            if not boundary and self.prose and self.prose.parts:
                self.prose.add(Markdown(("\n".join(lines),)))
            return
        written = [n for n, line in enumerate(lines) if line.strip()]
        block = self.current_prose(first + written[0] + 1)
        begin = 0 if block.parts else written[0]
        block.add(Markdown(self.inline(lines[begin:written[-1] + 1 if boundary else len(lines)], first + begin)))
        self.run_open = False
        self.caption = self.equation = None
        self.figures = []
        self.previous_text = ""

    # -- prose ---------------------------------------------------------------------------------
    def current_prose(self, line: int) -> _Block:
        lang = self.lang[0] if self.lang else None
        frameworks = self.tab[0] if self.tab else None
        self.seen_prose = True
        if self.prose is None or (self.prose.lang, self.prose.frameworks) != (lang, frameworks):
            self.close_prose()
            self.prose = _Block(line, lang, frameworks, block=len(self.language_blocks) if self.lang else None)
            self.items.append(self.prose)
        return self.prose

    def close_prose(self) -> None:
        self.prose = None

    def prose_group(self, tokens: list[Token], start: int, end: int) -> None:
        self.run_open = False
        block = self.current_prose(start + 1)
        first = tokens[0]
        lines = self.lines[start:end]
        caption, self.caption = self.caption, None
        self.equation = None
        self.figures = []
        self.previous_text = tokens[1].content if first.type == "paragraph_open" else ""
        kind = first.type
        if kind == "heading_open":
            level = int(first.tag[1])
            title = tokens[1].content.strip()
            label = self.trailing_label(lines, heading=True) if first.markup.startswith("#") else None
            if label:  # `## Title :label:`sec_x``
                lines = [lines[-1][:label.start()]]
                title = TRAILING_LABEL.sub("", title).strip()
            index = block.add(Heading(self.inline(lines, start), level, title, start + 1))
            self.headings.append(OutlineEntry(start + 1, block.lang, level, title))
            self.slots[block.lang] = _Slot(block, index, "section")
            self.check_text(TRAILING_LABEL.sub("", tokens[1].content) if label else tokens[1].content, start)
            if label:
                self.marker(MarkerLine(label[1], label[2]), start + 1)
        elif kind == "paragraph_open":
            self.paragraph(block, tokens[1].content, lines, start)
        elif kind == "table_open":
            if caption and caption[0] is block and caption[1] == len(block.parts) - 1:
                block.parts.pop()  # the `:Caption` paragraph becomes the table's caption
            else:
                caption = None
            part = Table(self.inline(lines, start), caption[2] if caption else None, start + 1)
            self.slots[block.lang] = _Slot(block, block.add(part), "table")
            self.check_text("\n".join(lines), start)
        elif kind in ("math_block", "math_block_label"):
            text, label = "\n".join(lines), None
            if kind == "math_block_label":  # MyST's own `$$ … $$ (label)`
                label = first.info
                text = "\n".join([*lines[:-1], LABEL_SUFFIX.sub("", lines[-1])])
                self.targets.append(Target(label, start + 1, "equation"))
            self.equation = _Slot(block, block.add(Equation(text, start + 1, label)), "equation")
        elif kind == "fence":
            self.fence(first, start, end)
            if first.info.strip() == "toc":  # d2l's ```toc list: Jupyter Book's table of contents
                block.add(Contents(start + 1))
            elif first.info.strip() == "eval_rst":  # reStructuredText, for Sphinx (see rst.py)
                block.add(Rst(first.content.rstrip("\n"), start + 1))
                self.rst_references(first.content, start + 1)
            elif (attributes := PANDOC_FENCE.fullmatch(first.info.strip())) and len(lines) > 1:
                # ```{.python} (pandoc's attributes, which d2lbook reads): a plain block of that language;
                # MyST would take `{.python}` for the name of a directive.
                fence_line = lines[0][:len(lines[0]) - len(lines[0].lstrip())] + first.markup + attributes[1]
                block.add(Markdown(("\n".join([fence_line, *lines[1:]]),)))
            else:
                if first.info.startswith("{") and (directive := first.info[1:].partition("}")[0].strip()):
                    self.directives.append((directive, start + 1))
                block.add(Markdown(("\n".join(lines),)))
        elif kind in ("code_block", "hr"):
            block.add(Markdown(("\n".join(lines),)))
        elif kind == "html_block":
            self.html(block, lines, start)
        else:  # lists and quotes
            self.container(tokens)
            block.add(Markdown(self.inline(lines, start, self.verbatim_lines(tokens))))

    def rst_references(self, text: str, start: int) -> None:
        """The references and citations of an eval_rst block, so that check finds their targets."""
        for match in RST_ROLE.finditer(text):
            line = start + 1 + text.count("\n", 0, match.start())
            if match[1].startswith("cite"):
                self.citations.append(Citation(tuple(k.strip() for k in match[2].split(",") if k.strip()), line))
            elif match[1] in ("numref", "eq"):
                role = "numref" if match[1] == "numref" else "eqref"
                self.references.append(Reference(match[2].strip(), line, role))

    def html(self, block: _Block, lines: list[str], start: int) -> None:
        """An HTML block takes every line up to the next blank one, in MyST too: a marker there
        is an error. It is still read as a marker, so that one mistake gives one message."""
        first = 0
        for index, line in enumerate(lines):
            self.images.extend((image[1], start + index + 1) for image in HTML_IMAGE.finditer(line))
            if (marker := parse_marker(line)) and not marker.problem:
                number = start + index + 1
                self.error(number, f"marker :{marker.name}: inside an HTML block, which takes every line "
                           "up to the next blank line: leave a blank line before the marker")
                if index > first:
                    self.current_prose(start + first + 1).add(Markdown(("\n".join(lines[first:index]),)))
                self.marker(marker, number)
                first = index + 1
        if first < len(lines):
            self.current_prose(start + first + 1).add(Markdown(("\n".join(lines[first:]),)))

    def paragraph(self, block: _Block, content: str, lines: list[str], start: int) -> None:
        label = self.trailing_label(lines)
        if label:  # `![…](…) :label:`x``: the figure or equation without it, then the label
            lines = [*lines[:-1], lines[-1][:label.start()]]
            content = "\n".join(line.strip() for line in lines)
        stripped = content.strip()
        if stripped.startswith("![") and (image := _single_image(stripped)):
            path = image.attrGet("src") or ""
            caption = stripped[2:stripped.rindex("](")]
            part = Figure(self.inline(lines, start), str(path),
                          self.inline(caption.split("\n"), start, record=False), start + 1)
            slot = self.slots[block.lang] = _Slot(block, block.add(part), "figure")
            self.figures = [slot]
        elif any(line.lstrip().startswith("$$") for line in lines):
            self.math_paragraph(block, lines, start)
        else:
            inline = self.inline(lines, start)
            caption = stripped.startswith(":") and isinstance(inline[0], str)
            index = block.add(Markdown(inline), merge=not caption)  # a table's caption stays apart
            if caption:
                self.caption = (block, index, (inline[0].lstrip()[1:], *inline[1:]))
        self.check_text(content, start)
        if label:
            self.marker(MarkerLine(label[1], label[2]), start + len(lines))

    @staticmethod
    def trailing_label(lines: list[str], heading: bool = False) -> re.Match[str] | None:
        """A label at the end of a heading's, a figure's or an equation's last line, which d2lbook
        readers accept; anywhere else it is an error (check_text reports it)."""
        found = TRAILING_LABEL.search(lines[-1])
        if not found or not _outside_code(lines[-1], found[1]):
            return None
        before = "\n".join([*lines[:-1], lines[-1][:found.start()]]).strip()
        if heading:
            return found if found[1] == "label" else None
        if found[1] == "eqlabel":
            return found if before.endswith("$$") else None
        return found if before.startswith("![") and _single_image(before) else None

    def math_paragraph(self, block: _Block, lines: list[str], start: int) -> None:
        """A paragraph with ``$$`` lines in it: d2lbook (and pandoc) read each ``$$ … $$`` as a display
        equation, MyST as text. Each becomes an Equation, with blank lines around it in the
        rendered markdown, so that MyST and Jupyter see what d2lbook saw."""
        index, text = 0, 0  # the next line to read; where the pending prose began
        equation = None
        while index < len(lines):
            opening = lines[index].lstrip()
            if not opening.startswith("$$"):
                index += 1
                continue
            closing = index if "$$" in opening[2:] else next(
                (n for n in range(index + 1, len(lines)) if "$$" in lines[n]), None)
            if closing is None:
                self.error(start + index + 1, "display equation is never closed (no closing $$)")
                break
            if index > text:  # the prose before it, ending in a blank line
                block.add(Markdown(self.inline([*lines[text:index], ""], start + text)))
            equation = block.add(Equation("\n".join(lines[index:closing + 1]), start + index + 1))
            index = text = closing + 1
            if index < len(lines):
                block.add(Markdown(("",)), merge=False)  # the blank line after it
                equation = None
        if text < len(lines):
            block.add(Markdown(self.inline(lines[text:], start + text)))
        self.equation = _Slot(block, equation, "equation") if equation is not None else None

    def fence(self, token: Token, start: int, end: int) -> bool:
        """Whether a fence is closed; it must be, and must not hold the opening of another one:
        CommonMark ends a fence at the first bare fence line, which would close the outer one early."""
        markup = token.markup
        code = bool(CODE_INFO.fullmatch(token.info))
        what = "code cell" if code else f"fenced block {markup}{token.info}"
        if markup[:3] in token.content:
            for number, line in enumerate(self.lines[start + 1:end], start=start + 2):
                opened = line.lstrip()
                run = len(opened) - len(opened.lstrip(markup[0]))
                if run >= len(markup) and opened[run:].strip():
                    inner = "code cell" if CODE_INFO.fullmatch(opened[run:].strip()) else "fenced block"
                    fix = (f"close that one first with a {markup} line" if code else
                           f"close that one first, or open it with a longer fence ({markup[0] * (len(markup) + 1)}) "
                           "to show a fence inside it")
                    self.error(number, f"{inner} opened inside the {what} opened at line {start + 1}: {fix}")
        last = self.lines[end - 1].strip() if end - 1 > start else ""
        if not (last and set(last) == {markup[0]} and len(last) >= len(markup)):
            self.error(start + 1, f"{what} is never closed (no {markup} line)")
            return False
        return True

    def container(self, tokens: list[Token]) -> None:
        """Markers and code cells stand at the start of a line, never inside a list or a quote."""
        for token in tokens[1:]:
            line = token.map[0] + 1 if token.map else 0
            if token.type == "d2l_marker":
                self.error(line, f"marker :{token.meta['marker'].name}: inside a list or a quote: "
                           "markers stand alone at the start of a line")
            elif token.type == "fence" and CODE_INFO.fullmatch(token.info):
                self.error(line, "code cell inside a list or a quote, where it would never run: code "
                           "cells start at the beginning of a line")
            elif token.type == "inline":
                self.check_text(token.content, line - 1)

    @staticmethod
    def verbatim_lines(tokens: list[Token]) -> set[int]:
        """Lines of fences and math inside a container: references are not read there."""
        return {n for t in tokens if t.map and t.type in ("fence", "code_block", "math_block")
                for n in range(*t.map)}

    def inline(self, lines: list[str], start: int, verbatim: set[int] | frozenset[int] = frozenset(),
               record: bool = True) -> Inline:
        """Lines as markdown, with their :numref:, :eqref: and :cite: roles as data (and in the
        chapter's lists of references and citations, if ``record``)."""
        text = "\n".join(lines)
        if record and ("](" in text or "<img" in text):
            self.images_in(lines, start, verbatim)
        if "ref" not in text and ":cite" not in text:
            return (text,)
        if verbatim and any(n in verbatim for n in range(start, start + len(lines))):
            return _join(*(self.inline([line], number, record=record) if number not in verbatim else (line,)
                           for number, line in enumerate(lines, start=start)), separator="\n")
        pieces: list[str | Reference | Citation] = []
        position = 0
        for match in ROLE.finditer(text):
            line = start + 1 + text.count("\n", 0, match.start())
            piece: Reference | Citation
            if match[1].startswith("cite"):
                keys = tuple(key.strip() for key in match[2].split(",") if key.strip())
                piece = Citation(keys, line, textual=match[1] == "citet")
                if record:
                    self.citations.append(piece)
            else:
                piece = Reference(match[2].strip(), line, match[1])
                if record:
                    self.references.append(piece)
            pieces += [text[position:match.start()], piece]
            position = match.end()
        pieces.append(text[position:])
        written = text.count("numref") + text.count("eqref") + text.count(":cite")  # more: a near miss
        for near in NEAR_ROLE.finditer(text) if record and written > (len(pieces) - 1) // 2 else ():
            if not ROLE.fullmatch(near[0]):
                self.error(start + 1 + text.count("\n", 0, near.start()),
                           f"malformed reference {near[0]!r}: did you mean :{near[1]}:`{near[2].strip()}`?")
        return tuple(piece for piece in pieces if piece.__class__ is not str or piece) or ("",)

    def images_in(self, lines: list[str], start: int, verbatim: set[int] | frozenset[int] = frozenset()) -> None:
        """Every image the lines show (markdown or HTML), and every link to another chapter's file
        (`[text](other.md)`), for check to find their files."""
        for number, line in enumerate(lines, start=start + 1):
            if number - 1 in verbatim or ("](" not in line and "<img" not in line):
                continue
            for child in PARSER.parseInline(line)[0].children or []:
                if child.type == "image":
                    self.images.append((str(child.attrGet("src") or ""), number))
                elif child.type == "html_inline" and (image := HTML_IMAGE.search(child.content)):
                    self.images.append((image[1], number))
                elif child.type == "link_open" and MD_LINK.fullmatch(href := str(child.attrGet("href") or "")):
                    self.links.append((href, number))

    def check_text(self, content: str, start: int) -> None:
        """A marker inside a line of text (outside code) is a mistake: it would show as text."""
        if not MARKER_IN_TEXT.search(content):
            return
        for number, line in enumerate(content.split("\n"), start=start + 1):
            if (found := MARKER_IN_TEXT.search(line)) and _outside_code(line, found[1]):
                self.error(number, f"marker :{found[1]}: inside a line of text: a marker stands alone on its line")

    # -- markers -------------------------------------------------------------------------------
    def marker(self, marker: MarkerLine, number: int) -> None:
        self.close_prose()
        if marker.problem:
            self.error(number, marker.problem)
        if marker.name not in ("begin_lang", "end_lang"):
            self.run_open = False
        if marker.name not in ("label", "width", "height", "alt"):
            self.figures = []
        if marker.name != "eqlabel":
            self.equation = None
            self.previous_text = ""
        self.caption = None
        getattr(self, "on_" + marker.name)(marker.argument, number)
        if marker.rest:  # read what follows the marker as if it stood on the next line
            self.lines[number - 1] = marker.rest
            for token in (tokens := block_tokens(marker.rest)):
                token.map = [token.map[0] + number - 1, token.map[1] + number - 1] if token.map else None
            self.cursor = number - 1
            self.groups(tokens)

    def on_begin_lang(self, argument: str | None, number: int) -> None:
        if self.lang:
            self.error(number, f"language block opened inside the one opened at line {self.lang[1]}")
            return
        if self.tab:
            self.error(number, f"language block inside the framework block opened at line {self.tab[1]} "
                       "(framework blocks go inside language blocks, not around them)")
            return
        names = [argument] if argument in self.settings.language_codes else [
            name.strip() for name in (argument or "").split(",") if name.strip()]
        if argument is not None and (len(names) != 1 or names[0] not in self.settings.language_codes):
            self.error(number, f"unknown language {argument!r} (expected one of "
                       f"{', '.join(self.settings.language_codes)})")
        if len(names) != 1 or names[0] not in self.settings.language_codes:
            names = ["?"]  # reported: its blocks are not paired
        self.lang = (names[0], number)
        self.draft, self.seen_prose = None, False
        if not self.run_open:
            self.language_runs.append([])
        self.language_runs[-1].append((names[0], number))

    def on_end_lang(self, argument: str | None, number: int) -> None:
        if self.tab and self.lang:
            self.error(self.tab[1], "framework block not closed before the end of its language block")
            self.tab = None
        if not self.lang:
            self.error(number, "stray :end_lang: with no open language block")
            return
        start = self.lang[1]
        body = [line for n, line in enumerate(self.lines[start:number - 1], start=start + 1) if n != self.draft]
        self.language_blocks.append(LanguageBlock(
            lang=self.lang[0], line=start, end=number, text="\n".join(body),
            run=len(self.language_runs) - 1, draft=self.draft))
        self.lang = None
        self.run_open = True

    def on_draft(self, argument: str | None, number: int) -> None:
        """``:draft:``, first in a translation's language block: the translation is not reviewed yet."""
        if not self.lang or self.seen_prose or self.draft:
            self.error(number, ":draft: must be the first line of a translation's language block")
        elif self.lang[0] == self.settings.source_language:
            self.error(number, f":draft: marks a translation, but {self.lang[0]!r} is the book's source language")
        else:
            self.draft = number

    def on_begin_tab(self, argument: str | None, number: int) -> None:
        if self.tab:
            self.error(number, f"framework block opened inside the one opened at line {self.tab[1]}")
            return
        names = [name.strip() for name in (argument or "").split(",") if name.strip()]
        self.tab = (frozenset(self.frameworks(names, number) if argument is not None else ()), number)

    def on_end_tab(self, argument: str | None, number: int) -> None:
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

    def on_label(self, name: str | None, number: int) -> None:
        if name is None:
            return  # reported
        name = name.strip()
        # A label inside a language block names that language's heading; outside, it names the
        # heading of every language just before it, so that one label serves both editions.
        langs = [self.lang[0]] if self.lang else list(self.slots)
        slots = [self.slots[lang] for lang in langs if lang in self.slots]
        if not slots:
            self.error(number, f"label {name!r} names nothing: put it right after a heading, a figure or a table")
            return
        if not self.lang and None not in self.slots and set(self.slots) <= set(self.settings.language_codes):
            # A language whose block is not there at all is a translation not written yet (a gap,
            # which the editions fill from the source language): the label is the heading's there too.
            written = {code for code, _ in self.language_runs[-1]} if self.language_runs else set()
            missing = [code for code in self.settings.language_codes if code not in self.slots and code in written]
            if missing:
                self.error(number, f"label {name!r} names a heading in {', '.join(sorted(set(self.slots) - {None}))} "
                           f"but none in {', '.join(missing)}")
        for slot in slots:
            part = slot.block.parts[slot.index]
            if isinstance(part, Table) and part.caption is None:
                self.error(number, f"label {name!r} names a table without a caption, which Sphinx cannot "
                           "number: write the caption on a line ':Caption' just before the table, as in d2lbook")
            slot.block.parts[slot.index] = replace(part, label=name)  # type: ignore[type-var]
        self.targets.append(Target(name, number, slots[0].kind))
        for lang in langs:
            self.slots.pop(lang, None)
        self.figures = [slot for slot in slots if slot.kind == "figure"]

    def on_eqlabel(self, name: str | None, number: int) -> None:
        if name is None:
            return  # reported
        name = name.strip()
        if self.equation is None:
            hint = ""
            if "$$" in self.previous_text:
                hint = (" (a $$ line right after text, with no blank line before it, is part of the "
                        "paragraph: add a blank line before the $$)")
            self.error(number, f"equation label {name!r} does not follow a $$ display equation{hint}")
            return
        block, index = self.equation.block, self.equation.index
        block.parts[index] = replace(block.parts[index], label=name)  # type: ignore[type-var]
        self.targets.append(Target(name, number, "equation"))
        self.equation = None

    def on_width(self, size: str | None, number: int, option: str = "width") -> None:
        """After a figure, or after the label of the figures of every language: sets them all."""
        if size is None:
            return  # reported
        if not self.figures:
            self.error(number, f":{option}: follows no figure: put it right after an image line, or after "
                       "the figure's :label:")
            return
        for slot in self.figures:
            figure = slot.block.parts[slot.index]
            assert isinstance(figure, Figure)
            options = tuple((k, v) for k, v in figure.options if k != option) + ((option, size.strip()),)
            slot.block.parts[slot.index] = replace(figure, options=options)

    def on_alt(self, text: str | None, number: int) -> None:
        """The figure's alternative text, for readers who cannot see the image: inside a language
        block, right after the image line, as the caption is (each language has its own)."""
        if text is None:
            return  # reported
        if not self.figures:
            self.error(number, ":alt: follows no figure: put it on the line right after the image")
            return
        if not text.strip():
            self.error(number, ":alt: is empty: describe what the image shows")
            return
        for slot in self.figures:
            slot.block.parts[slot.index] = replace(slot.block.parts[slot.index], alt=text.strip())  # type: ignore[type-var]

    def on_height(self, size: str | None, number: int) -> None:
        self.on_width(size, number, option="height")

    # -- code ----------------------------------------------------------------------------------
    def code(self, token: Token, number: int, end: int) -> None:
        self.close_prose()
        self.run_open = False
        if not (self.lang or self.tab):  # a misplaced cell (an error) leaves the labels' targets be
            self.slots.clear()
        self.equation = self.caption = None
        self.figures = []
        if not self.fence(token, number - 1, end):
            return  # it took the rest of the file: its content is no code
        lines = token.content.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
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
            numbered = [(n, line) for n, line in numbered
                        if "tab" not in line or not (TAB_LINE.search(line) or TAB_MAGIC.search(line))]
        markers: dict[str, str] = {}
        while numbered and numbered[0][1].strip().startswith("#@"):
            at, line = numbered[0]
            word, _, argument = line.strip()[2:].partition(" ")
            word = word.rstrip(":")
            if word in D2L_CELL_MARKERS:
                break
            if word == "tab":  # a `#@tab` line that names nothing: d2lbook's pattern skips it
                frameworks = self.frameworks([], at)
            elif word in CELL_MARKERS:
                markers[word] = argument.strip()
            else:
                self.error(at, f"unknown cell marker #@{word} (expected #@tab, "
                           f"{', '.join('#@' + m for m in CELL_MARKERS)})")
            numbered = numbered[1:]
        timeout = self.timeout(markers, number)
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
                timeout=timeout,
            ))

    def timeout(self, markers: dict[str, str], number: int) -> int | None:
        if "timeout" not in markers:
            return None
        seconds = markers["timeout"]
        if not seconds.isdigit() or int(seconds) == 0:
            self.error(number, f"#@timeout needs a whole number of seconds, e.g. #@timeout 1200 (got {seconds!r})")
            return None
        return int(seconds)


def _join(*inlines: Inline, separator: str = "") -> Inline:
    """Concatenate inline sequences (with ``separator`` between them), merging neighbouring strings
    and dropping empty ones."""
    joined: list[str | Reference] = []
    for index, inline in enumerate(inlines):
        for piece in (separator, *inline) if index and separator else inline:
            if isinstance(piece, str) and joined and isinstance(joined[-1], str):
                joined[-1] += piece
            elif piece != "":
                joined.append(piece)
    return tuple(joined) or ("",)


def _single_image(content: str) -> Token | None:
    """The image, if a paragraph is one image and nothing else (a figure, to d2lbook)."""
    children = PARSER.parseInline(content)[0].children or []
    return children[0] if len(children) == 1 and children[0].type == "image" else None


def _outside_code(line: str, name: str) -> bool:
    """Whether a marker's name occurs in the line's text, not only inside inline code."""
    children = PARSER.parseInline(line)[0].children or []
    return any(child.type == "text" and name in child.content for child in children)


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


def _plain_language_blocks(reader: _Reader, language: str) -> None:
    """A chapter without language blocks is in one language: each stretch of its prose (between
    code cells) becomes a language block of that language, as if it were written in one, so that
    translation states, fallback and status treat it like any passage whose translations are missing."""
    groups: list[list[_Block]] = []
    following: list[int] = []  # the line of what comes after each group
    previous = None
    for item in reader.items:
        if isinstance(item, _Block):
            if previous is None:
                groups.append([])
                following.append(len(reader.lines) + 1)
            groups[-1].append(item)
            previous = item
        else:
            if previous is not None:
                following[-1] = item.line
            previous = None
    for number, (group, end) in enumerate(zip(groups, following, strict=True)):
        first = group[0].line
        body = [line for line in reader.lines[first - 1:end - 1] if not parse_marker(line)]
        while body and not body[-1].strip():
            body.pop()
        for item in group:
            item.lang, item.block = language, len(reader.language_blocks)
        reader.language_blocks.append(LanguageBlock(lang=language, line=first, end=end, text="\n".join(body),
                                                    run=number))


def read_chapter(path: Path, settings: Settings, text: str | None = None, language: str | None = None) -> Chapter:
    """Read one chapter. Its problems land in ``chapter.diagnostics``; nothing is raised.

    A chapter without language blocks is in ``language`` (by default the book's source language)."""
    absolute = path.resolve()
    # Errors name the file as an author types it: relative to the book's root where it lies there.
    shown = absolute.relative_to(settings.root) if absolute.is_relative_to(settings.root) else path
    in_book = absolute.is_relative_to(settings.chapters_dir)
    name = absolute.relative_to(settings.chapters_dir).with_suffix("").as_posix() if in_book else path.stem
    chapter = Chapter(path=shown, name=name, default_framework=settings.default_framework, file=absolute)
    try:
        text = read_text(path, shown) if text is None else decode(text.encode("utf-8", "surrogateescape"), shown)
    except BookError as error:
        chapter.diagnostics = error.diagnostics
        return chapter
    reader = _Reader(path=shown, settings=settings)
    # Reading makes many small objects and no reference cycles: the cycle collector, which would
    # walk them again and again, waits until the chapter is read (a fifth of the time saved).
    collecting = gc.isenabled()
    gc.disable()
    try:
        reader.read(text)
    finally:
        if collecting:
            gc.enable()
    if not reader.language_runs and any(isinstance(item, _Block) for item in reader.items):
        chapter.plain = True
        _plain_language_blocks(reader, language or settings.source_language)
    chapter.blocks = [
        item if isinstance(item, Code) else Prose(tuple(item.parts), item.line, item.lang, item.frameworks, item.block)
        for item in reader.items
    ]
    chapter.targets, chapter.references, chapter.headings = reader.targets, reader.references, reader.headings
    chapter.language_runs, chapter.diagnostics = reader.language_runs, reader.diagnostics
    chapter.language_blocks = reader.language_blocks
    chapter.named_frameworks = frozenset(reader.named_frameworks)
    chapter.citations, chapter.images, chapter.directives = reader.citations, reader.images, reader.directives
    chapter.links = reader.links
    return chapter

