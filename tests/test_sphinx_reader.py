"""The reader extension on a tiny Sphinx project in the book's theme: what each page carries."""

from __future__ import annotations

import io

import pytest
from bs4 import BeautifulSoup
from sphinx.application import Sphinx
from sphinx.util.docutils import docutils_namespace, patch_docutils

ROW = {"framework": "pytorch", "label": "PyTorch", "colab": "https://colab.example/nb.ipynb", "note": "",
       "binder": "https://binder.example/nb.ipynb", "download": "notebooks/pytorch/part/page.ipynb"}
CONF = f"""\
extensions = ["bookbuild.sphinx_reader"]
html_theme = "sphinx_book_theme"
language = "pt_BR"
bookbuild_frameworks = [["mxnet", "MXNet"], ["pytorch", "PyTorch"], ["tensorflow", "TensorFlow"]]
bookbuild_language = "pt"
bookbuild_languages = [["en", "en", "English"], ["pt", "pt-BR", "Português (Brasil)"]]
bookbuild_subtitle = "Capítulos interativos"
bookbuild_default_tab = "pytorch"
bookbuild_texts = {{"language_switch": "Idioma", "run_title": "Execute esta página", "open_colab": "Abrir no Colab",
                   "launch_binder": "Abrir no Binder", "download_notebook": "Baixar o notebook",
                   "search": "Pesquisar neste livro…"}}
bookbuild_run = {{"chapters/part/page": [
    {ROW!r},
    {{**{ROW!r}, "framework": "mxnet", "label": "MXNet", "colab": "", "note": "Sem Colab: use o Binder."}}]}}
"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BeautifulSoup]:
    src = tmp_path_factory.mktemp("reader")
    out = src / "_build"
    (src / "conf.py").write_text(CONF)
    (src / "index.rst").write_text("Início\n======\n\n.. toctree::\n\n   chapters/part/page\n")
    (src / "chapters" / "part").mkdir(parents=True)
    (src / "chapters" / "part" / "page.rst").write_text("Página\n======\n\nTexto.\n\nSeção\n-----\n\nMais.\n")
    warnings = io.StringIO()
    with patch_docutils(str(src)), docutils_namespace():
        Sphinx(str(src), str(src), str(out), str(out / ".doctrees"), "html",
               status=None, warning=warnings, freshenv=True).build()
    assert warnings.getvalue() == ""
    return {name: BeautifulSoup((out / f"{name}.html").read_text(), "html.parser")
            for name in ("index", "chapters/part/page")}


def test_run_links_sit_right_under_the_title(pages):
    title = pages["chapters/part/page"].select_one("article h1")
    block = title.find_next_sibling()
    assert block is not None and "bb-run" in block["class"]
    assert block.select_one(".bb-run__title").get_text() == "Execute esta página"
    pytorch, mxnet = block.select(".bb-run__framework")
    assert pytorch["data-framework"] == "pytorch"
    assert [a.get_text(strip=True) for a in pytorch.find_all("a")] == [
        "Abrir no Colab", "Abrir no Binder", "Baixar o notebook"]
    # The download lives at the edition's root: two folders up from chapters/part/.
    assert pytorch.select_one("a.bb-run__download")["href"] == "../../notebooks/pytorch/part/page.ipynb"
    assert mxnet.select_one("a.bb-run__colab") is None
    assert mxnet.select_one(".bb-run__note").get_text() == "Sem Colab: use o Binder."
    assert pages["index"].select(".bb-run") == []  # a page without code has no run links


@pytest.mark.parametrize(("page", "up"), [("index", "../"), ("chapters/part/page", "../../../")])
def test_the_language_switch_links_the_same_page_in_the_other_edition(pages, page, up):
    switch = pages[page].select_one("nav.bb-lang")
    assert switch is not None and switch["aria-label"] == "Idioma"
    (current,) = switch.select("[aria-current=page]")
    assert current.get_text() == "PT" and current.name == "span"
    (link,) = switch.select("a.bb-lang__link")
    assert (link.get_text(), link["href"], link["hreflang"]) == ("EN", f"{up}en/{page}.html", "en")


def test_the_script_knows_the_frameworks_and_the_default(pages):
    (script,) = [s for s in pages["index"].find_all("script") if "bookbuild.js" in s.get("src", "")]
    assert script["data-frameworks"] == "mxnet pytorch tensorflow"
    assert (script["data-default"], script["data-language"]) == ("pytorch", "pt")
    assert any("bookbuild.css" in link.get("href", "") for link in pages["index"].find_all("link"))


def test_the_sidebar_brand_has_logo_title_and_subtitle(pages):
    brand = pages["chapters/part/page"].select_one(".bd-sidebar-primary .bb-brand")
    assert brand is not None
    assert brand.select_one("img")["src"] == "../../_static/bookbuild-logo.svg"
    assert brand.select_one(".bb-brand__subtitle").get_text() == "Capítulos interativos"
    assert pages["index"].select(".bd-header .search-button-field") == []  # one search field, in the sidebar
