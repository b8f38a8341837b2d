"""The site: one MyST page per section and language, tagged for the tab extension (render_myst);
each edition's config, the front door and the sitemap."""

from __future__ import annotations

import dataclasses
from xml.etree import ElementTree

import pytest

from bookbuild import edition, frontpage, render_myst
from bookbuild.build import build_notebooks, read_book
from bookbuild.model import Code
from bookbuild.settings import load_settings

SECTION = """\
:begin_lang:`en`
# Section
:end_lang:

:begin_lang:`pt`
# Seção
:end_lang:

```{.python .input}
#@tab mxnet
print('mx')
```

```{.python .input}
#@tab pytorch
print('pt')
```

```{.python .input}
#@tab tensorflow
print('tf')
```

```{.python .input}
#@tab pytorch
#@solution
print('solved')
```

:begin_lang:`en`
:begin_tab:`mxnet`
Gluon only.
:end_tab:

:begin_tab:`pytorch, tensorflow`
Not Gluon.
:end_tab:
:end_lang:

:begin_lang:`pt`
:begin_tab:`mxnet`
Só Gluon.
:end_tab:

:begin_tab:`pytorch, tensorflow`
Sem Gluon.
:end_tab:
:end_lang:
"""


def cell(frameworks: tuple[str, ...], line: int) -> Code:
    return Code(source=f"cell {line}", line=line, frameworks=frameworks)


def test_consecutive_cells_form_a_tab_set_until_a_framework_repeats():
    cells = [cell(("mxnet",), 1), cell(("pytorch", "tensorflow"), 2), cell(("pytorch",), 3), cell(("mxnet",), 4)]
    groups = render_myst.code_groups(cells, ["mxnet", "pytorch", "tensorflow"])
    assert [[(f, c.line) for f, c in group] for group in groups] == [
        [("mxnet", 1), ("pytorch", 2), ("tensorflow", 2)], [("pytorch", 3), ("mxnet", 4)]]


def test_a_page_holds_every_framework_with_its_outputs_and_tags(book):
    settings = load_settings(book)
    chapters = read_book(settings)
    assert build_notebooks(chapters, settings, settings.notebooks_dir, log=lambda m: None).failures == []
    page = render_myst.site_notebook(chapters[0], "pt", settings)
    code = [(c.source, c.metadata.tags, c.outputs[0].text) for c in page.cells if c.cell_type == "code"]
    assert code == [
        ("print('mx')", ["fw-mxnet", "group-1"], "mx\n"),
        ("print('pt')", ["fw-pytorch", "group-1"], "pt\n"),
        ("print('tf')", ["fw-tensorflow", "group-1"], "tf\n"),
        ("print('solved')", ["fw-pytorch", "group-2", "solution"], "solved\n"),
    ]
    prose = page.cells[-1].source
    assert prose.startswith("::::{tab-set}\n:sync-group: framework")
    assert ":::{tab-item} MXNet\n:sync: mxnet\n\nSó Gluon.\n:::" in prose
    assert ":::{tab-item} TensorFlow\n:sync: tensorflow\n\nSem Gluon.\n:::" in prose
    assert "Gluon only" not in prose and "# Seção" in page.cells[0].source


def test_a_missing_notebook_stops_the_site_with_the_command_to_run(book):
    settings = load_settings(book)
    with pytest.raises(render_myst.StaleNotebook, match="notebooks/en/mxnet/part/section.ipynb is missing or stale"):
        render_myst.site_notebook(read_book(settings)[0], "en", settings)


def test_each_edition_config_derives_from_the_book_config(settings):
    chapters = read_book(settings)
    pt = edition.edition_config(settings, "pt", chapters)
    assert pt["title"] == "Deep Learning na Prática" and "bookbuild" not in pt
    assert pt["sphinx"]["config"]["language"] == "pt_BR"
    assert pt["sphinx"]["config"]["bookbuild_solution_title"] == "Solução"
    assert pt["sphinx"]["config"]["bookbuild_frameworks"][1] == ["pytorch", "PyTorch"]
    en = edition.edition_config(settings, "en", chapters)
    assert en["sphinx"]["config"]["language"] == "en" and en["execute"] == pt["execute"]


def test_published_addresses_derive_from_html_baseurl(settings):
    """Each edition's canonical URLs start at its folder under html.baseurl; the front door names the
    site and each edition's first page; without html.baseurl there is none of it."""
    chapters = read_book(settings)
    root = settings.site_url
    assert root and root.endswith("/")
    for lang in settings.language_codes:
        assert edition.edition_config(settings, lang, chapters)["html"]["baseurl"] == f"{root}{lang}/"
    front = frontpage.root_index(settings)
    assert f'<link rel="canonical" href="{root}">' in front
    assert f'<link rel="alternate" hreflang="pt-BR" href="{root}pt/chapters/index.html">' in front

    unpublished = dataclasses.replace(settings, site_url=None)
    assert "baseurl" not in edition.edition_config(unpublished, "en", chapters)["html"]
    assert "canonical" not in frontpage.root_index(unpublished)


def test_the_sitemap_lists_every_page_of_every_edition_with_its_translations(settings):
    chapters = read_book(settings)
    text = frontpage.sitemap(chapters, settings)
    assert text == frontpage.sitemap(chapters, settings)  # no dates: the same bytes on every build
    ns = {"s": frontpage.SITEMAP, "x": frontpage.XHTML}
    urls = ElementTree.fromstring(text).findall("s:url", ns)
    root = settings.site_url
    assert urls[0].find("s:loc", ns).text == root
    pages = {u.find("s:loc", ns).text: {a.get("hreflang"): a.get("href") for a in u.findall("x:link", ns)}
             for u in urls[1:]}
    # Every chapter, the translation status page ("Estado da tradução") and the bibliography.
    assert len(pages) == (len(chapters) + 2) * len(settings.languages)
    for page in ("chapters/deep-learning-computation/use-gpu.html", "translation-status.html", "bibliography.html"):
        assert pages[f"{root}pt/{page}"] == pages[f"{root}en/{page}"] == {"en": f"{root}en/{page}",
                                                                          "pt-BR": f"{root}pt/{page}"}
