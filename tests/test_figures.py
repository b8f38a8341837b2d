"""Figures: d2lbook's image paragraphs with a caption and an alternative text per language, images
per language with a common fallback, numbered in the notebooks as Sphinx numbers them, the image
inside the notebook; missing images and unlabelled or undescribed figures are file:line errors."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from bookbuild import render_jupyter
from bookbuild.check import check_chapter
from bookbuild.crossref import numbering
from bookbuild.figures import image_path, variant
from bookbuild.model import Figure, Prose
from bookbuild.read import read_chapter
from bookbuild.render_myst import myst_prose
from bookbuild.settings import load_settings

REPO = Path(__file__).resolve().parent.parent
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text x="1" y="9">{}</text></svg>\n'

CHAPTER = """\
:begin_lang:`en`
# Blocks
See :numref:`fig_blocks`.
:end_lang:

:begin_lang:`pt`
# Blocos
Veja a :numref:`fig_blocks`.
:end_lang:

:begin_lang:`en`
![Blocks inside blocks, as in
:numref:`fig_blocks` itself.](../img/blocks.svg)
:alt:`Three boxes, one inside the other.`
:end_lang:

:begin_lang:`pt`
![Blocos dentro de blocos.](../img/blocks.svg)
:alt:`Três caixas, uma dentro da outra.`
:end_lang:

:label:`fig_blocks`
:width:`400px`

```{.python .input}
#@tab mxnet, pytorch, tensorflow
print(1)
```
"""


@pytest.fixture
def book(tiny_book):
    """The tiny book with the chapter above and its image, in English and in a Portuguese variant."""
    (tiny_book / "chapters" / "part").mkdir()
    (tiny_book / "chapters" / "part" / "section.md").write_text(CHAPTER)
    (tiny_book / "chapters" / "img" / "pt").mkdir(parents=True)
    (tiny_book / "chapters" / "img" / "blocks.svg").write_text(SVG.format("blocks"))
    (tiny_book / "chapters" / "img" / "pt" / "blocks.svg").write_text(SVG.format("blocos"))
    return tiny_book


def read(book: Path, text: str = CHAPTER):
    settings = load_settings(book)
    path = book / "chapters" / "part" / "section.md"
    path.write_text(text)
    return read_chapter(path, settings), settings


def figures(chapter) -> dict[str | None, Figure]:
    return {block.lang: part for block in chapter.blocks if isinstance(block, Prose)
            for part in block.parts if isinstance(part, Figure)}


def test_each_language_has_its_caption_and_alternative_text_and_the_label_names_both(book):
    chapter, settings = read(book)
    found = figures(chapter)
    assert set(found) == {"en", "pt"}
    assert [found[lang].alt for lang in ("en", "pt")] == ["Three boxes, one inside the other.",
                                                            "Três caixas, uma dentro da outra."]
    assert {found[lang].label for lang in found} == {"fig_blocks"}
    assert {found[lang].options for lang in found} == {(("width", "400px"),)}  # after the label: both
    assert [d for d in check_chapter(chapter, settings) if not d.warning] == []  # (no translation lock here)
    assert [t.kind for t in chapter.targets] == ["figure"]


def test_a_language_variant_replaces_the_common_image_where_it_exists(book):
    chapter, _ = read(book)
    figure = figures(chapter)["pt"]
    assert variant("../img/blocks.svg", "pt") == "../img/pt/blocks.svg"
    assert image_path(chapter, figure, "pt") == "../img/pt/blocks.svg"
    (book / "chapters" / "img" / "pt" / "blocks.svg").unlink()
    assert image_path(chapter, figure, "pt") == "../img/blocks.svg"  # the fallback
    assert image_path(chapter, figures(chapter)["en"], "en") == "../img/blocks.svg"
    assert image_path(chapter, Figure(("",), "https://example.org/x.png", ("",), 1), "pt") == \
        "https://example.org/x.png"


def test_the_notebooks_carry_the_image_and_the_numbered_caption_of_their_language(book):
    chapter, settings = read(book)
    toc = {"format": "jb-book", "root": "chapters/index", "options": {"numbered": True},
           "chapters": [{"file": "chapters/part/section"}]}
    numbers = numbering([chapter], toc, settings.language_codes, settings.framework_names)
    for lang, words, caption in (("en", "blocks", "*Fig. 1.1* Blocks inside blocks, as in"),
                                 ("pt", "blocos", "*Fig. 1.1* Blocos dentro de blocos.")):
        nb = render_jupyter.make_notebook(chapter, lang, settings.framework("pytorch"), settings, numbers)
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        image = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)" width="400px">', markdown)
        assert image, markdown
        assert base64.b64decode(image[1]).decode() == SVG.format(words)
        assert image[2] == figures(chapter)[lang].alt  # nothing to escape in these
        assert caption in markdown and "../img/" not in markdown and "{figure}" not in markdown
    # A reference in the caption is written out, as in the text, and leads to the figure's anchor.
    en = render_jupyter.make_notebook(chapter, "en", settings.framework("pytorch"), settings, numbers)
    assert "as in\n[Fig. 1.1](#fig_blocks) itself." in "\n".join(c.source for c in en.cells)


def test_the_editions_get_a_numbered_figure_with_the_language_image_and_alternative_text(book):
    chapter, _ = read(book)
    pt = next(block for block in chapter.blocks if isinstance(block, Prose) and figures_of_block(block, "pt"))
    assert myst_prose(pt, chapter, "pt") == ("```{figure} ../img/pt/blocks.svg\n:name: fig_blocks\n"
                                             ":alt: Três caixas, uma dentro da outra.\n:width: 400px\n\n"
                                             "Blocos dentro de blocos.\n```")
    # Shown in the English edition, untranslated, a Portuguese passage keeps its own image.
    assert myst_prose(pt, chapter, "en").startswith("```{figure} ../img/pt/blocks.svg")


def figures_of_block(block: Prose, lang: str) -> bool:
    return block.lang == lang and any(isinstance(part, Figure) for part in block.parts)


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ("../img/blocks.svg)\n:alt:`Three", "../img/missing.svg)\n:alt:`Three", 12,
     "image '../img/missing.svg' not found (no file chapters/img/missing.svg)"),
    (":alt:`Three boxes, one inside the other.`\n", "", 12, "figure without an alternative text"),
    (":label:`fig_blocks`\n:width:`400px`\n", "", 12, "figure without a label"),
    (":alt:`Three boxes, one inside the other.`\n", ":alt:`Three boxes.`\n:alt:``\n", 15, ":alt: is empty"),
    ("# Blocks\n", "# Blocks\n:alt:`Nothing here`\n", 3, ":alt: follows no figure"),
    (":label:`fig_blocks`\n:width:`400px`\n", ":label:`fig_blocks`\n\nText.\n:width:`400px`\n", None,
     ":width: follows no figure"),
])
def test_figure_mistakes_are_reported_at_their_line(book, old, new, line, message):
    assert old in CHAPTER
    chapter, settings = read(book, CHAPTER.replace(old, new, 1))
    problems = [d for d in check_chapter(chapter, settings) if not d.warning]
    assert problems, "no problem reported"
    found = [d for d in problems if message in d.message]
    assert found, [str(d) for d in problems]
    if line is not None:
        assert found[0].line == line


def test_a_figure_outside_the_language_blocks_is_an_error_in_the_book(book):
    text = CHAPTER.replace(":end_lang:\n\n:label:`fig_blocks`", ":end_lang:\n\n![Shared.](../img/blocks.svg)\n"
                           ":alt:`Shared.`\n\n:label:`fig_shared`\n\n:label:`fig_blocks`")
    chapter, settings = read(book, text)
    assert any("figure outside a language block" in d.message and not d.warning
               for d in check_chapter(chapter, settings))


def test_a_label_on_nothing_is_an_error(book):
    chapter, settings = read(book, CHAPTER + "\n:label:`fig_after_code`\n")
    assert [str(d) for d in check_chapter(chapter, settings) if not d.warning] == [
        "chapters/part/section.md:30: label 'fig_after_code' names nothing: put it right after a heading, a "
        "figure or a table"]


def test_the_book_s_figures_exist_in_both_languages_and_differ_where_they_hold_words():
    settings = load_settings(REPO)
    images = sorted((REPO / "chapters" / "img").glob("*.svg"))
    assert [p.name for p in images] == ["host-device-copies.svg", "nested-blocks.svg", "tied-layer.svg"]
    for image in images:
        own = image.parent / "pt" / image.name
        english, portuguese = image.read_text(), own.read_text()
        assert english != portuguese
        for svg, lang in ((english, "en"), (portuguese, "pt")):
            assert f'lang="{lang}"' in svg and "<text" in svg and "<image" not in svg  # words stay text
            assert '<rect class="card"' in svg  # an opaque card: readable on a dark page
    assert settings.language_codes == ("en", "pt")
