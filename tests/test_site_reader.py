"""The site assembler's part of the reader features: what each edition's config tells the pages,
the notebooks each edition serves, the front door, and every reader-facing string in both languages."""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO

from bookbuild import edition, frontpage, site
from bookbuild.build import read_book
from bookbuild.texts import TEXTS, text

PAGE = "chapters/deep-learning-computation/custom-layer"


@pytest.fixture(scope="module")
def chapters():
    from bookbuild.settings import load_settings

    return read_book(load_settings(REPO))


def test_every_text_exists_in_every_language(settings):
    assert set(settings.language_codes) <= set(TEXTS)
    keys = {lang: set(strings) for lang, strings in TEXTS.items()}
    assert all(found == keys["en"] for found in keys.values()), keys
    for strings in TEXTS.values():  # the same {fields} in every translation
        assert {k: set(re.findall(r"{(\w+)}", v)) for k, v in strings.items()} == {
            k: set(re.findall(r"{(\w+)}", v)) for k, v in TEXTS["en"].items()}
    with pytest.raises(KeyError, match="no text 'run_title' for language 'es'"):
        text("es", "run_title")


@pytest.mark.parametrize("lang", ["en", "pt"])
def test_each_page_with_code_gets_run_links_for_its_committed_notebooks(settings, chapters, lang):
    config = edition.edition_config(settings, lang, chapters)["sphinx"]["config"]
    with_code = sorted(f"chapters/{c.name}" for c in chapters if any(c.code_cells(f) for f in settings.framework_names))
    assert sorted(config["bookbuild_run"]) == with_code  # pages without code get no links
    assert "chapters/index" not in config["bookbuild_run"] and PAGE in with_code
    rows = {row["framework"]: row for row in config["bookbuild_run"][PAGE]}
    assert list(rows) == ["mxnet", "pytorch", "tensorflow"]
    for name, row in rows.items():
        committed = f"notebooks/{lang}/{name}/deep-learning-computation/custom-layer.ipynb"
        assert (REPO / committed).exists()
        assert row["binder"] == settings.repository.binder_url(committed)
        assert row["download"] == f"notebooks/{name}/deep-learning-computation/custom-layer.ipynb"
        if settings.framework(name).colab:
            assert (row["colab"], row["note"]) == (settings.repository.colab_url(committed), "")
        else:
            assert row["colab"] == "" and "Binder" in row["note"] and "MXNet 1.9.1" in row["note"]
    assert config["bookbuild_default_tab"] == "pytorch"
    assert config["bookbuild_texts"]["run_title"] == text(lang, "run_title")
    assert [code for code, *_ in config["bookbuild_languages"]] == ["en", "pt"]


def test_an_edition_serves_its_committed_notebooks_with_links_to_itself(settings, chapters, tmp_path):
    """A downloaded notebook is read on its own: the committed one, outputs and all, but its
    references lead to the online edition rather than to sibling notebooks it does not have."""
    site.write_edition(chapters, settings, "pt", tmp_path)
    served = sorted(p.relative_to(tmp_path / "_extra").as_posix() for p in (tmp_path / "_extra").rglob("*.ipynb"))
    committed = sorted(f"notebooks/{p.relative_to(REPO / 'notebooks' / 'pt').as_posix()}"
                       for p in (REPO / "notebooks" / "pt").rglob("*.ipynb"))
    assert served == committed and len(served) == 3 * len(chapters)
    name = "notebooks/tensorflow/deep-learning-computation/custom-layer.ipynb"
    download = json.loads((tmp_path / "_extra" / name).read_text())
    original = json.loads((REPO / "notebooks" / "pt" / name.split("/", 1)[1]).read_text())
    assert download["metadata"] == original["metadata"]
    assert [c for c in download["cells"] if c["cell_type"] == "code"] == [
        c for c in original["cells"] if c["cell_type"] == "code"]
    prose = "".join("".join(c["source"]) for c in download["cells"] if c["cell_type"] == "markdown")
    page = f"{settings.site_url}pt/chapters/deep-learning-computation/model-construction.html"
    assert f"[Seção 1.1]({page}#sec-model-construction)" in prose
    assert ".ipynb" not in prose and "](#" not in prose


def test_the_front_door_offers_both_editions_and_picks_by_language(settings):
    page = frontpage.root_index(settings)
    assert re.findall(r'<a href="(\w+)/index.html" hreflang="([\w-]+)"', page) == [("en", "en"), ("pt", "pt-BR")]
    for language in settings.languages:
        assert language.title in page and language.subtitle in page
    assert '"en", "pt"' in page and "navigator.languages" in page and frontpage.LANGUAGE_KEY in page
    # Nothing loads from the network; the published addresses it names are not requests.
    loaded = re.sub(r'<link rel="(canonical|alternate)"[^>]*>|xmlns="http://www.w3.org/2000/svg"', "", page)
    assert "http://" not in loaded and "https://" not in loaded


def test_changing_the_extensions_rebuilds_the_pages(monkeypatch, tmp_path):
    before = edition.toolchain_fingerprint()
    package = tmp_path / "bookbuild"
    (package / "static").mkdir(parents=True)
    monkeypatch.setattr(edition, "__file__", str(package / "edition.py"))
    (package / "static" / "bookbuild.js").write_text("one")
    first = edition.toolchain_fingerprint()
    (package / "static" / "bookbuild.js").write_text("two")
    assert len({before, first, edition.toolchain_fingerprint()}) == 3
