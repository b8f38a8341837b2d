"""d2lbook's ```` ```eval_rst ```` blocks: reStructuredText inside a markdown chapter.

The editions render them with MyST's ``{eval-rst}`` directive, so Sphinx reads them as d2lbook's
build does. Before that, ``check`` parses each block with docutils and reports, at its line in the
chapter, what Sphinx would warn about: syntax errors, unknown directives and roles, and what this
toolchain cannot take from a chapter (a ``toctree``: the table of contents is _toc.yml's).
Directives and roles that Sphinx and the editions' extensions add are known here by name, so that
docutils alone can judge a block without starting Sphinx.

A notebook has no Sphinx and no reStructuredText: a block that docutils renders by itself (a table,
a list) becomes its HTML, which Jupyter shows; any other keeps its source, in an ``rst`` code block.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

# What Sphinx (and sphinx-design, sphinxcontrib-bibtex, myst-nb) add to docutils, by name.
SPHINX_DIRECTIVES = frozenset({
    "only", "index", "code-block", "sourcecode", "literalinclude", "highlight", "centered", "hlist",
    "seealso", "versionadded", "versionchanged", "deprecated", "versionremoved", "tabularcolumns",
    "glossary", "productionlist", "rubric", "acks", "sectionauthor", "moduleauthor", "codeauthor",
    "math", "bibliography", "footbibliography", "tab-set", "tab-item", "card", "grid", "grid-item",
    "grid-item-card", "dropdown", "code-cell", "glue:figure", "margin", "sidebar", "todo",
})
SPHINX_ROLES = frozenset({
    "ref", "numref", "doc", "eq", "term", "download", "any", "keyword", "option", "envvar", "token",
    "abbr", "command", "dfn", "file", "guilabel", "kbd", "mailheader", "makevar", "manpage", "menuselection",
    "mimetype", "newsgroup", "program", "regexp", "samp", "pep", "rfc", "math", "code", "cite", "cite:p",
    "cite:t", "cite:ps", "cite:ts", "cite:author", "cite:year", "footcite", "py:func", "py:class", "py:meth",
    "py:mod", "py:attr", "py:obj", "py:data", "py:exc", "func", "class", "meth", "mod", "attr", "obj",
    "data", "exc",
})
# MyST's own directives, and those of the editions' extensions, besides docutils' and Sphinx's.
MYST_DIRECTIVES = frozenset({
    "eval-rst", "code-cell", "glue", "glue:figure", "glue:math", "tableofcontents", "translation-notice",
    "translation-end", "tab-set-code", "button-link", "button-ref", "div", "article-info",
})


def known_directive(name: str) -> bool:
    """Whether MyST, docutils, Sphinx or the editions' extensions know a directive name."""
    from docutils.parsers.rst import directives

    return (name in SPHINX_DIRECTIVES or name in MYST_DIRECTIVES or name in REFUSED
            or name in directives._directive_registry)


# Known to Sphinx, but not from inside a chapter of this book.
REFUSED = {
    "toctree": "the table of contents comes from _toc.yml: list the files there (or write a ```toc block)",
    "include": "a chapter is one file: copy the text in, or make it a chapter of its own",
    "literalinclude": "a chapter is one file: put the code in a code cell",
}


@dataclass(frozen=True)
class Problem:
    line: int  # in the block's text, from 1
    message: str


@contextmanager
def _sphinx_names():
    """docutils' registries, with Sphinx's directives and roles known (as stubs) while it lasts."""
    from docutils.parsers.rst import Directive, directives, roles

    class Stub(Directive):
        has_content = True
        optional_arguments = 10
        final_argument_whitespace = True

        def run(self):
            return []

    def stub_role(name, rawtext, text, lineno, inliner, options=None, content=None):
        return [], []

    saved = (dict(directives._directives), dict(roles._roles))
    try:
        for name in SPHINX_DIRECTIVES - set(REFUSED):
            directives._directives[name] = _anything_goes(Stub)
        for name in SPHINX_ROLES:
            roles._roles[name] = stub_role
        yield
    finally:
        directives._directives.clear()
        directives._directives.update(saved[0])
        roles._roles.clear()
        roles._roles.update(saved[1])


def _anything_goes(directive: type) -> type:
    """A stub directive that takes any option (docutils checks options against ``option_spec``)."""
    class AnyOptions(dict):
        def __contains__(self, key: object) -> bool:
            return True

        def __getitem__(self, key: str):
            return lambda value: value

    directive.option_spec = AnyOptions()
    return directive


@lru_cache(maxsize=1)
def _settings():
    """docutils' settings for reading a block (and writing it as HTML), made once: making them is
    most of the time of a ``publish_*`` call, and a long book has hundreds of blocks."""
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.writers.html5_polyglot import Writer

    settings = get_default_settings(Parser, Writer)
    settings.report_level, settings.halt_level = 5, 5  # collect messages in the tree, print none
    settings.warning_stream = io.StringIO()
    settings.file_insertion_enabled, settings.raw_enabled = False, True
    settings.doctitle_xform, settings.embed_stylesheet = False, False
    return settings


def _doctree(source: str):
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    document = new_document("<eval_rst>", _settings())
    Parser().parse(source, document)
    return document


@lru_cache(maxsize=256)
def problems(source: str) -> tuple[Problem, ...]:
    """What Sphinx would warn about in a block (level WARNING and up), at its line in the block."""
    import re

    from docutils import nodes

    found = []
    for number, line in enumerate(source.split("\n"), start=1):
        directive = re.match(r"\s*\.\.\s+([\w:-]+)::", line)
        if directive and directive[1] in REFUSED:
            found.append(Problem(number, f"eval_rst: `.. {directive[1]}::` cannot be used here: "
                                 f"{REFUSED[directive[1]]}"))
    with _sphinx_names():
        tree = _doctree(source)
    for message in tree.findall(nodes.system_message):
        if message["level"] < 2:
            continue
        text = message.children[0].astext() if message.children else message.astext()
        if any(f'"{name}"' in text for name in REFUSED) and "Unknown directive" in text:
            continue  # reported above, with what to do instead
        found.append(Problem(message.get("line") or 1, f"eval_rst: {' '.join(text.split())}"))
    return tuple(sorted(found, key=lambda p: p.line))


@lru_cache(maxsize=256)
def to_html(source: str) -> str | None:
    """The block as HTML, if docutils renders it alone, without a complaint; else None."""
    from docutils import nodes
    from docutils.io import StringOutput
    from docutils.writers.html5_polyglot import Writer

    tree = _doctree(source)
    if any(True for _ in tree.findall(nodes.system_message)) or any(True for _ in tree.findall(nodes.raw)):
        return None  # a complaint, or raw HTML or LaTeX meant for Sphinx's builders: shown as source
    writer = Writer()
    writer.write(tree, StringOutput(encoding="unicode"))
    writer.assemble_parts()
    return writer.parts["body"].strip()
