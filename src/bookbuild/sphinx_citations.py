"""Citations in the editions: sphinxcontrib-bibtex, set up the way this book cites.

- Author–year references in parentheses, "(Glorot and Bengio, 2010; He et al., 2015)", worded in
  the edition's language ("Glorot e Bengio" in Portuguese): a referencing style per language,
  registered as ``bookbuild-<lang>``; site.py picks the edition's.
- Each bibliography entry's anchor is ``cite-<key>`` (as docutils writes ids), so that the
  notebooks, which have no Sphinx, can link a citation to its entry on the online edition's
  bibliography page (``bibliography.cite_anchor`` computes the same id).

The chapters' ``:cite:`` and ``:citet:`` become ``{cite:p}`` and ``{cite:t}`` in the Sphinx
sources; site.py adds the bibliography page and names the BibTeX files (``bibtex_bibfiles``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sphinx.application import Sphinx

from .texts import TEXTS

STYLE_GROUP = "sphinxcontrib.bibtex.style.referencing"


def style_name(lang: str) -> str:
    return f"bookbuild-{lang}"


def _style(lang: str) -> type:
    from sphinxcontrib.bibtex.style.referencing import BracketStyle, PersonStyle
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

    words = TEXTS[lang]

    def brackets() -> BracketStyle:
        return BracketStyle(left="(", right=")", sep="; ")

    def persons() -> PersonStyle:
        return PersonStyle(sep2=f" {words['citation_and']} ", last_sep=f" {words['citation_and']} ",
                           other=f" {words['citation_et_al']}")

    @dataclass
    class Style(AuthorYearReferenceStyle):
        bracket_parenthetical: BracketStyle = field(default_factory=brackets)
        bracket_textual: BracketStyle = field(default_factory=brackets)
        bracket_author: BracketStyle = field(default_factory=brackets)
        bracket_label: BracketStyle = field(default_factory=brackets)
        bracket_year: BracketStyle = field(default_factory=brackets)
        person: PersonStyle = field(default_factory=persons)

    Style.__name__ = Style.__qualname__ = f"BookbuildReferenceStyle_{lang}"
    return Style


def setup(app: Sphinx) -> dict[str, Any]:
    """Register a referencing style per language; site.py picks the edition's in its config
    (``bibtex_reference_style: bookbuild-pt``), with ``bibtex_cite_id: cite-{key}``."""
    from sphinxcontrib.bibtex.plugin import register_plugin

    for lang in TEXTS:
        register_plugin(STYLE_GROUP, style_name(lang), _style(lang), force=True)
    app.setup_extension("sphinxcontrib.bibtex")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
