"""Gaps in the translation, as readers see them: the notebooks' markdown and the site's pages carry
a notice per passage, the original text where the translation is missing, and its language."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_translation import SECTION

from bookbuild import render_jupyter, render_myst, translation
from bookbuild.cli import main
from bookbuild.read import read_chapter
from bookbuild.settings import load_settings

EDIT = "https://github.com/dl-hands-on/book/edit/main/chapters/ropes.md"


@pytest.fixture
def ropes(tiny_book: Path):
    (tiny_book / "_toc.yml").write_text("format: jb-book\nroot: chapters/ropes\n")
    path = tiny_book / "chapters" / "ropes.md"
    path.write_text(SECTION)
    main(["--root", str(tiny_book), "confirm"])
    path.write_text(SECTION.replace("# Ropes", "# Ropes and Cables"))  # the heading's translation is stale
    settings = load_settings(tiny_book)
    return read_chapter(path, settings), settings


def markdown(notebook) -> str:
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def test_the_portuguese_notebook_shows_every_gap_with_its_notice(ropes):
    chapter, settings = ropes
    text = markdown(render_jupyter.make_notebook(chapter, "pt", settings.framework("pytorch"), settings))
    assert text == (
        f"> *O original deste trecho mudou depois da tradução: ela pode estar desatualizada.* "
        f"[Editar o capítulo]({EDIT})\n\n# Cordas\n\n"
        f"> *Tradução automática, ainda não revisada.* [Editar o capítulo]({EDIT})\n\n"
        "Uma corda sustenta peso ao longo do comprimento.\n\n"
        f"> *Este trecho ainda não foi traduzido: segue o original em inglês.* [Editar o capítulo]({EDIT})\n\n"
        '<div lang="en">\n\nKnots weaken it.\n\n</div>\n\n'
        "Só em português.")


def test_the_english_notebook_shows_the_portuguese_only_passage_marked_as_portuguese(ropes):
    chapter, settings = ropes
    text = markdown(render_jupyter.make_notebook(chapter, "en", settings.framework("mxnet"), settings))
    assert "Uma corda" not in text and "# Cordas" not in text  # a translation's state is no concern here
    assert text.endswith(
        f"> *This passage is not in English yet: it is shown in its original language.* "
        f'[Edit the chapter]({EDIT})\n\n<div lang="pt-BR">\n\nSó em português.\n\n</div>')


def test_the_site_pages_mark_each_gap_for_the_sphinx_extension(ropes, monkeypatch):
    chapter, settings = ropes
    monkeypatch.setattr(render_myst.notebooks, "load", lambda path: None)  # no executed notebooks: no code
    monkeypatch.setattr(chapter, "code_cells", lambda framework: [])
    page = markdown(render_myst.site_notebook(chapter, "pt", settings))
    assert page.count("```{translation-notice}") == 3 and page.count("```{translation-end}") == 3
    assert "```{translation-notice} missing en\nEste trecho ainda não foi traduzido" in page
    assert "```{translation-notice} draft pt-BR\nTradução automática" in page
    assert "```{translation-notice} stale pt-BR\n" in page
    # The notice opens before the passage and the end marker closes after it.
    assert page.index("missing en") < page.index("Knots weaken it.") < page.rindex("```{translation-end}")


def test_a_fully_translated_chapter_renders_as_before(settings):
    """The book itself: no notice anywhere, in any notebook or page."""
    from bookbuild.build import read_book

    for chapter in read_book(settings):
        for lang in settings.language_codes:
            shown = translation.edition_blocks(chapter, lang, settings)
            assert all(notice is None for notice in shown.values()), chapter.path
            nb = render_jupyter.make_notebook(chapter, lang, settings.frameworks[1], settings)
            assert "Editar o capítulo" not in markdown(nb) and "Edit the chapter" not in markdown(nb)
