"""Cross-references in the notebooks: Sphinx's numbers, written out in each language."""

from __future__ import annotations

import gettext
import json
from pathlib import Path

import pytest
import sphinx
from conftest import REPO

from bookbuild.crossref import anchors, plain_references, toc_numbers
from bookbuild.read import read_chapter
from bookbuild.texts import text

TOC = {
    "format": "jb-book",
    "root": "chapters/index",
    "options": {"numbered": True},
    "parts": [
        {"caption": "Basics", "chapters": [
            {"file": "chapters/basics/index", "sections": [
                {"file": "chapters/basics/first"},
                {"file": "chapters/basics/second", "sections": [{"file": "chapters/basics/deeper"}]},
            ]},
        ]},
        {"caption": "More", "chapters": [{"file": "chapters/more/index"}]},
    ],
}

FIRST = """\
:begin_lang:`en`
# First
See :numref:`sec_second`, :numref:`sec_first_part` and :eqref:`eq_second`.
:end_lang:

:begin_lang:`pt`
# Primeiro
Veja a :numref:`sec_second`, a :numref:`sec_first_part` e a equação :eqref:`eq_second`.
:end_lang:

:label:`sec_first`

$$a = b$$
:eqlabel:`eq_first`

:begin_lang:`en`
## Part
### Detail
:end_lang:

:begin_lang:`pt`
## Parte
### Detalhe
:end_lang:

:label:`sec_first_detail`

:begin_lang:`en`
## Another part
:end_lang:

:begin_lang:`pt`
## Outra parte
:end_lang:

:label:`sec_first_part`
"""

SECOND = """\
:begin_lang:`en`
# Second
As in :numref:`sec_first` and :eqref:`eq_first`.
:end_lang:

:begin_lang:`pt`
# Segundo
Como na :numref:`sec_first` e na equação :eqref:`eq_first`.
:end_lang:

:label:`sec_second`

$$c = d$$
:eqlabel:`eq_second`
"""


@pytest.fixture
def chapters(settings, tmp_path):
    folder = tmp_path / "chapters" / "basics"
    folder.mkdir(parents=True)
    (folder / "first.md").write_text(FIRST)
    (folder / "second.md").write_text(SECOND)
    read = [read_chapter(folder / name, settings) for name in ("second.md", "first.md")]
    for chapter in read:  # named as the book names them, below chapters/
        chapter.name = f"basics/{Path(chapter.path).stem}"
    return read


def test_the_table_of_contents_numbers_chapters_across_parts_and_their_sections():
    assert toc_numbers(TOC) == {
        "chapters/basics/index": "1",
        "chapters/basics/first": "1.1",
        "chapters/basics/second": "1.2",
        "chapters/basics/deeper": "1.2.1",
        "chapters/more/index": "2",
    }
    assert toc_numbers({**TOC, "options": {}}) == {}


def test_labels_get_the_numbers_sphinx_gives_them(chapters, settings):
    found = anchors(chapters, TOC, settings.language_codes)
    assert {name: (a.kind, a.chapter, a.number) for name, a in found.items()} == {
        "sec_first": ("section", "basics/first", "1.1"),
        "eq_first": ("equation", "basics/first", "1.1"),
        "sec_first_detail": ("section", "basics/first", "1.1.1.1"),
        "sec_first_part": ("section", "basics/first", "1.1.2"),
        "sec_second": ("section", "basics/second", "1.2"),
        "eq_second": ("equation", "basics/second", "1.2"),  # equations count through the chapter
    }
    assert found["sec_first_part"].titles == {"en": "Another part", "pt": "Outra parte"}


def test_notebook_prose_has_plain_linked_references(chapters, settings):
    found = anchors(chapters, TOC, settings.language_codes)
    first = next(c for c in chapters if c.name == "basics/first")
    prose = "\n\n".join(b.text for b in first.blocks if getattr(b, "lang", None) in ("pt", None))
    shown = plain_references(prose, "pt", first, found)
    assert "Veja a [Seção 1.2](second.ipynb#sec_second), a [Seção 1.1.2](#sec_first_part) e a " \
           "equação [(1.2)](second.ipynb)." in shown
    assert '<a id="sec_first"></a>\n# Primeiro' in shown
    assert "$$a = b\\tag{1.1}$$" in shown
    assert "{numref}" not in shown and "{eq}" not in shown and ")=" not in shown
    second = next(c for c in chapters if c.name == "basics/second")
    english = plain_references(second.blocks[0].text, "en", second, found)
    assert english.endswith("As in [Section 1.1](first.ipynb#sec_first) and [(1.1)](first.ipynb).")


def test_unnumbered_sections_read_as_their_titles_and_unknown_labels_as_names(chapters, settings):
    found = anchors(chapters, {"root": "chapters/basics/first"}, settings.language_codes)
    second = next(c for c in chapters if c.name == "basics/second")
    assert "Como na [Primeiro](first.ipynb#sec_first)" in plain_references(second.blocks[1].text, "pt",
                                                                          second, found)
    assert plain_references("see {numref}`sec_nowhere`", "en", second, {}) == "see `sec_nowhere`"


@pytest.mark.parametrize("key, sphinx_message", [("section_reference", "Section %s"),
                                                 ("figure_reference", "Fig. %s"),
                                                 ("table_reference", "Table %s")])
def test_references_are_worded_as_sphinx_words_them_in_each_edition(key, sphinx_message, settings):
    for language in settings.languages:
        catalog = gettext.translation("sphinx", Path(sphinx.__file__).parent / "locale",
                                      languages=[language.sphinx_language], fallback=True)
        assert text(language.code, key, number="7.3") == catalog.gettext(sphinx_message) % "7.3"


def test_the_books_notebooks_carry_no_myst_syntax():
    """Jupyter shows MyST roles and targets verbatim: the notebooks must have none left."""
    for path in sorted((REPO / "notebooks").rglob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                source = "".join(cell["source"])
                for syntax in ("{numref}`", "{eq}`", ")=\n"):
                    assert syntax not in source, f"{path.relative_to(REPO)}: {syntax!r} in a markdown cell"
