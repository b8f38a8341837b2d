"""The site of a d2lbook-style book: built with warnings as errors, published only when clean, with
one copy of the shared assets; and the pieces a full-size book brings (a bibliography, framework
gaps, reStructuredText, plain chapters), as readers get them in both editions and the notebooks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import write_tiny_book

from bookbuild import envs, notebooks, publish, render_myst, site
from bookbuild.build import build_notebooks, read_book
from bookbuild.edition import edition_toc
from bookbuild.read import read_chapter
from bookbuild.settings import load_settings

INDEX = """\
# A Small Book

Three frameworks :cite:`Chen.Li.Li.ea.2015,Paszke.Gross.Massa.ea.2019`, one of them
described by :citet:`Abadi.Barham.Chen.ea.2016`. A line of prose right before its equation,
$$
y = \\sigma(w x + b)
$$
:eqlabel:`eq_small_book`

```eval_rst
.. list-table:: Tensor types
   :header-rows: 1

   * - Framework
     - Type
   * - PyTorch
     - ``torch.Tensor``
```

```toc
:maxdepth: 1

part/gap
```
"""

GAP = """\
# Without TensorFlow
:label:`sec_small_gap`

See :eqref:`eq_small_book` in [the first chapter](../index.md).

```{.python .input}
print('mxnet here')
```

```{.python .input}
#@tab pytorch
print('pytorch here')
```
"""


def small_book(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two plain chapters with a citation, an equation after prose, eval_rst and a framework gap."""
    root.mkdir(parents=True)
    write_tiny_book(root)
    config = yaml.safe_load((root / "_config.yml").read_text())
    config["bookbuild"]["every_framework"] = False
    (root / "_config.yml").write_text(yaml.safe_dump(config))
    (root / "_toc.yml").write_text("format: jb-book\nroot: chapters/index\noptions:\n  numbered: true\n"
                                   "chapters:\n  - file: chapters/part/gap\n")
    (root / "chapters" / "part").mkdir(parents=True)
    (root / "chapters" / "index.md").write_text(INDEX)
    (root / "chapters" / "part" / "gap.md").write_text(GAP)
    monkeypatch.setattr(envs, "ensure_kernel", lambda framework, log=print, device="cpu": "python3")
    settings = load_settings(root)
    assert build_notebooks(read_book(settings), settings, settings.notebooks_dir, log=lambda m: None).failures == []
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        root = small_book(tmp_path_factory.mktemp("small") / "book", patch)
        settings = load_settings(root)
        assert site.build_site(read_book(settings), settings) == 0  # warnings are errors: none
    return root / "_build" / "html"


def page(built: Path, name: str) -> str:
    return (built / name).read_text(encoding="utf-8")


def test_citations_link_to_each_editions_bibliography(built):
    pt = page(built, "pt/chapters/index.html")
    assert re.search(r'\(<a [^>]*href="\.\./bibliography\.html#cite-chen-li-li-ea-2015"[^>]*>Chen et al\., 2015</a>; '
                     r'<a [^>]*>Paszke et al\., 2019</a>\)', pt), pt
    assert "Abadi et al. (<a" in pt
    bibliography = page(built, "pt/bibliography.html")
    assert "Referências" in bibliography and 'id="cite-paszke-gross-massa-ea-2019"' in bibliography
    assert "References" in page(built, "en/bibliography.html")


def test_an_equation_after_prose_is_display_math_with_its_number(built):
    en = page(built, "en/chapters/index.html")
    assert 'id="equation-eq-small-book"' in en and "$$" not in en.split("</header>")[-1]
    gap = page(built, "en/chapters/part/gap.html")
    assert re.search(r'href="\.\./index\.html#equation-eq-small-book"[^>]*>\(1\)</a>', gap), gap
    assert re.search(r'<a class="reference internal" href="\.\./index\.html"><span[^>]*>the first chapter', gap), gap


def test_eval_rst_is_rendered_as_restructuredtext(built):
    en = page(built, "en/chapters/index.html")
    assert re.search(r"<table[^>]*>\s*<caption>.*Tensor types", en, re.S)
    assert "eval_rst" not in en and "list-table" not in en


def test_a_framework_gap_has_a_tab_and_a_run_row_that_say_so(built):
    pt = page(built, "pt/chapters/part/gap.html")
    assert pt.count("Esta seção ainda não tem código TensorFlow.") == 2  # the tab set and the run row
    row = re.search(r'<div class="bb-run__framework" data-framework="tensorflow">(.*?)</div>', pt).group(1)
    assert "bb-run__gap" in row and "href" not in row  # nothing to run: no link, broken or not
    assert re.search(r'data-framework="pytorch">.*?bb-run__download', pt)


def test_the_status_page_lists_the_sections_without_code_for_a_framework(built):
    pt = page(built, "pt/translation-status.html")
    assert "Seções sem código para um framework" in pt
    assert re.search(r"<li><p>Without TensorFlow: TensorFlow</p></li>", pt), pt


def test_untranslated_plain_chapters_show_their_english_with_notices(built):
    pt = page(built, "pt/chapters/part/gap.html")
    assert 'lang="en"' in pt and "Este trecho ainda não foi traduzido" in pt
    assert "Without TensorFlow" in pt


def test_the_editions_share_one_copy_of_their_static_files(built):
    assert (built / "_static" / "mathjax").is_dir() and (built / "_static" / "bookbuild.js").is_file()
    for lang in ("en", "pt"):
        assert not (built / lang / "_static" / "mathjax").exists()
        assert (built / lang / "_static" / "documentation_options.js").is_file()  # differs: stays
    pt = page(built, "pt/chapters/part/gap.html")
    assert 'src="../../../_static/bookbuild.js' in pt and 'src="../../_static/documentation_options.js' in pt
    for reference in re.findall(r'(?:href|src)="([^"#?]+)', pt):  # every link to a local file resolves
        if not re.match(r"[a-z]+:", reference):
            assert (built / "pt/chapters/part" / reference).resolve().exists(), reference
    index = page(built, "index.html")
    assert 'href="_static/bookbuild-logo.svg"' in index


def test_the_gap_notebook_says_so_in_its_language(built):
    root = built.parent.parent
    notebook = json.loads((root / "notebooks/pt/tensorflow/part/gap.ipynb").read_text())
    assert "".join(notebook["cells"][0]["source"]).startswith(
        "> **Esta seção ainda não tem código TensorFlow.** Os exemplos estão em MXNet e PyTorch.")
    assert not [c for c in notebook["cells"] if c["cell_type"] == "code"]


def test_a_notebook_writes_citations_and_restructuredtext_without_sphinx(built):
    root = built.parent.parent
    notebook = json.loads((root / "notebooks/pt/pytorch/index.ipynb").read_text())
    text = "".join("".join(cell["source"]) for cell in notebook["cells"])
    assert ("([Chen et al., 2015](https://dl-hands-on.github.io/book/pt/bibliography.html#cite-chen-li-li-ea-2015); "
            "[Paszke et al., 2019](https://dl-hands-on.github.io/book/pt/bibliography.html"
            "#cite-paszke-gross-massa-ea-2019))") in text
    assert "Abadi et al. ([2016](" in text
    assert "<table>\n<caption>Tensor types</caption>" in text and "{eval-rst}" not in text
    assert "{cite" not in text


def test_a_page_that_warns_fails_every_build_until_it_is_fixed(tmp_path, monkeypatch):
    """Sphinx reads a page again only when it changed; without sphinx_warnings, the second build
    of a broken page would pass and publish it."""
    root = small_book(tmp_path / "book", monkeypatch)
    gap = root / "chapters" / "part" / "gap.md"
    gap.write_text(GAP + "\n![A figure whose file is missing](nothing.png)\n")
    settings = load_settings(root)
    chapters = read_unchecked(settings)
    html = root / "_build" / "html"
    assert site.build_site(chapters, settings) == 1
    assert not html.exists()
    assert site.build_site(chapters, settings) == 1  # the same page, unchanged: it still fails
    assert not html.exists()
    gap.write_text(GAP)
    chapters = read_book(settings)
    assert site.build_site(chapters, settings) == 0
    published = (html / "en" / "chapters" / "part" / "gap.html").read_text()
    gap.write_text(GAP.replace("See :eqref:", "Now see :eqref:") + "\n![Missing again](nothing.png)\n")
    chapters = read_unchecked(settings)
    for _ in range(2):
        assert site.build_site(chapters, settings) == 1
        assert (html / "en" / "chapters" / "part" / "gap.html").read_text() == published  # left as it was


def read_unchecked(settings):
    """The chapters, read without the book's checks (which would refuse the missing image first)."""
    return [read_chapter(path, settings) for path in sorted(settings.chapters_dir.rglob("*.md"))]


def edition(root: Path, lang: str, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / lang / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / lang


def test_shared_assets_are_the_identical_ones_and_folders_go_whole(tmp_path):
    same = {"_static/theme.css": "body{}", "_static/mathjax/tex.js": "m", "_static/mathjax/fonts/a.woff": "f",
            "_images/plot.svg": "<svg/>", "_static/vendor/x.js": "v"}
    en = edition(tmp_path, "en", {**same, "_static/documentation_options.js": "en", "index.html": "x"})
    pt = edition(tmp_path, "pt", {**same, "_static/documentation_options.js": "pt", "index.html": "y",
                                  "_static/translations.js": "pt only"})
    (pt / "_static/vendor/x.js").write_text("changed")  # one file differs: its folder stays per edition
    assert publish.shared_assets({"en": en, "pt": pt}) == {
        "_static/theme.css", "_static/mathjax", "_images/plot.svg"}


def test_pages_link_one_folder_up_to_shared_assets_only():
    shared = {"_static/theme.css", "_static/mathjax", "_images/plot.svg"}
    page = ('<link href="../_static/theme.css?v=1"><script src="../_static/mathjax/tex.js"></script>'
            '<script src="../_static/documentation_options.js"></script><img src="../_images/plot.svg">'
            '<a href="_static/theme.css">')
    assert publish.relink(page, shared) == (
        '<link href="../../_static/theme.css?v=1"><script src="../../_static/mathjax/tex.js"></script>'
        '<script src="../_static/documentation_options.js"></script><img src="../../_images/plot.svg">'
        '<a href="../_static/theme.css">')


def test_unchanged_files_are_linked_from_the_previous_site_and_changed_ones_written(tmp_path):
    files = {"_static/theme.css": "body{}", "index.html": '<link href="_static/theme.css">',
             "page.html": "one", "notebooks/a.ipynb": "{}"}
    editions = {lang: edition(tmp_path / "built", lang, files) for lang in ("en", "pt")}
    first = tmp_path / "site-1"
    publish.assemble(editions, first)
    assert (first / "en/index.html").read_text() == '<link href="../_static/theme.css">'
    (editions["en"] / "page.html").write_text("two")  # Sphinx rewrote one page
    second = tmp_path / "site-2"
    publish.assemble(editions, second, previous=first)
    assert (second / "en/page.html").read_text() == "two" and (first / "en/page.html").read_text() == "one"
    for name in ("en/index.html", "pt/page.html", "en/notebooks/a.ipynb", "_static/theme.css"):
        assert (second / name).samefile(first / name), name
    assert not (second / "en/page.html").samefile(first / "en/page.html")
    assert (second / "en/index.html").read_text() == '<link href="../_static/theme.css">'


def test_the_site_is_swapped_in_whole(tmp_path):
    published = tmp_path / "html"
    (published / "en").mkdir(parents=True)
    (published / "en" / "old.html").write_text("old")
    staged = tmp_path / ".html.new"
    (staged / "en").mkdir(parents=True)
    (staged / "en" / "new.html").write_text("new")
    publish.swap_in(staged, published)
    assert sorted(p.name for p in published.rglob("*.html")) == ["new.html"]
    assert not staged.exists() and not (tmp_path / ".html.old").exists()


def test_a_preview_keeps_executed_notebooks_and_shows_new_code_without_outputs(tmp_path, monkeypatch):
    root = small_book(tmp_path / "book", monkeypatch)
    settings = load_settings(root)
    executed = root / "notebooks/en/pytorch/part/gap.ipynb"
    before = executed.read_bytes()
    (root / "chapters/part/gap.md").write_text(GAP.replace("print('pytorch here')", "print('pytorch edited')"))
    monkeypatch.setattr(envs, "ensure_kernel", lambda *a, **k: pytest.fail("a preview starts no kernel"))
    chapters = read_book(settings)
    report = build_notebooks(chapters, settings, settings.notebooks_dir, execute_code=False)
    assert executed.read_bytes() == before  # outputs of the old code are not thrown away
    assert sorted(p.relative_to(root).as_posix() for p in report.kept) == [
        "notebooks/en/pytorch/part/gap.ipynb", "notebooks/pt/pytorch/part/gap.ipynb"]
    with pytest.raises(render_myst.StaleNotebook, match="make preview"):
        render_myst.site_notebook(chapters[1], "en", settings)
    page = render_myst.site_notebook(chapters[1], "en", settings, preview=True)
    code = {c.source: c.outputs for c in page.cells if c.cell_type == "code"}
    assert code["print('pytorch edited')"] == [] and code["print('mxnet here')"][0]["text"] == "mxnet here\n"
    # A new chapter's notebooks are written, without outputs.
    (root / "chapters/part/new.md").write_text(GAP.replace("sec_small_gap", "sec_small_new"))
    with (root / "_toc.yml").open("a") as toc:
        toc.write("  - file: chapters/part/new\n")
    report = build_notebooks(read_book(settings), settings, settings.notebooks_dir, execute_code=False)
    fresh = notebooks.load(root / "notebooks/en/mxnet/part/new.ipynb")
    assert fresh is not None and all(not c.get("outputs") for c in fresh.cells if c.cell_type == "code")


def test_an_edition_has_a_references_page_only_when_a_chapter_cites(settings):
    def files(cited: bool) -> list[str]:
        toc = edition_toc(settings, "pt", cited)
        return [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]

    assert "bibliography" in files(True) and "bibliography" not in files(False)
    assert edition_toc(settings, "pt", True)["parts"][-2]["caption"] == "Referências"
