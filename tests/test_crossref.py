"""Cross-references in the reader notebooks: Sphinx's numbers, written out in each language."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
import sphinx

from bookbuild.crossref import anchors, numbering, toc_numbers
from bookbuild.read import read_chapter
from bookbuild.render_jupyter import CHECKOUT, Links, make_notebook
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


def prose(book, name, lang, settings, toc=TOC, links=CHECKOUT):
    """The markdown of a chapter's notebook (these chapters have no code: no setup cell)."""
    found = numbering(list(book.values()), toc, settings.language_codes, settings.framework_names)
    notebook = make_notebook(book[name], lang, settings.framework("pytorch"), settings, found, links)
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


@pytest.fixture
def book(chapters):
    return {chapter.name: chapter for chapter in chapters}


def test_notebook_prose_has_plain_linked_references(book, settings):
    shown = prose(book, "basics/first", "pt", settings)
    assert "Veja a [Seção 1.2](second.ipynb#sec_second), a [Seção 1.1.2](#sec_first_part) e a " \
           "equação [(1.2)](second.ipynb#eq_second)." in shown
    assert '# <a id="sec_first"></a>Primeiro' in shown
    assert '<a id="eq_first"></a>\n$$a = b\\tag{1.1}$$' in shown
    assert "{numref}" not in shown and "{eq}" not in shown and ")=" not in shown
    english = prose(book, "basics/second", "en", settings)
    assert "As in [Section 1.1](first.ipynb#sec_first) and [(1.1)](first.ipynb#eq_first)." in english


def test_a_notebook_read_on_its_own_links_to_the_online_edition(book, settings):
    site = "https://example.org/book/"
    shown = prose(book, "basics/first", "pt", settings, links=Links(online=site))
    assert (f"Veja a [Seção 1.2]({site}pt/chapters/basics/second.html#sec-second), a "
            f"[Seção 1.1.2]({site}pt/chapters/basics/first.html#sec-first-part) e a equação "
            f"[(1.2)]({site}pt/chapters/basics/second.html#equation-eq-second).") in shown


def test_unnumbered_sections_read_as_their_titles_and_unknown_labels_as_names(book, settings):
    assert "Como na [Primeiro](first.ipynb#sec_first)" in prose(
        book, "basics/second", "pt", settings, toc={"root": "chapters/basics/first"})
    lone = read_chapter(Path("lone.md"), settings, text="See :numref:`sec_nowhere`.\n")
    assert prose({"lone": lone}, "lone", "en", settings) == "See `sec_nowhere`."


@pytest.mark.parametrize("key, sphinx_message", [("section_reference", "Section %s"),
                                                 ("figure_reference", "Fig. %s"),
                                                 ("table_reference", "Table %s")])
def test_references_are_worded_as_sphinx_words_them_in_each_edition(key, sphinx_message, settings):
    for language in settings.languages:
        catalog = gettext.translation("sphinx", Path(sphinx.__file__).parent / "locale",
                                      languages=[language.sphinx_language], fallback=True)
        assert text(language.code, key, number="7.3") == catalog.gettext(sphinx_message) % "7.3"
