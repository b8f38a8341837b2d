"""The reader notebooks: one per language and framework, plain Jupyter markdown, deterministic and atomic."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from bookbuild import execute, files, notebooks, render_jupyter
from bookbuild.build import execution_code
from bookbuild.crossref import book_numbering
from bookbuild.read import read_chapter
from bookbuild.settings import load_settings
from bookbuild.texts import text

CHAPTER = """\
:begin_lang:`en`
# Title
English.
:end_lang:

:begin_lang:`pt`
# Título
Português.
:end_lang:

$$a = b$$

```{.python .input}
#@tab all
#@solution
print(1)
```

:begin_lang:`en`
:begin_tab:`tensorflow`
Keras note.
:end_tab:
:end_lang:

:begin_lang:`pt`
:begin_tab:`tensorflow`
Nota sobre Keras.
:end_tab:
:end_lang:

```{.python .input}
#@tab pytorch
#@varies
#@raises
raise ValueError
```
"""


@pytest.fixture
def chapter(settings):
    return read_chapter(Path("chapters/part/section.md"), settings, text=CHAPTER)


def test_a_notebook_holds_its_language_and_framework_only(chapter, settings):
    nb = render_jupyter.make_notebook(chapter, "pt", settings.framework("tensorflow"), settings)
    kinds = [(c.cell_type, c.source.splitlines()[0]) for c in nb.cells]
    assert kinds == [("code", "#@title Configuração: sementes e, no Colab, as versões fixadas"),
                     ("markdown", "# Título"), ("code", "print(1)"),
                     ("markdown", "Nota sobre Keras.")]
    assert 'os.environ["DLBOOK_LANGUAGE"] = "pt"' in nb.cells[0].source  # the language of the plots
    assert nb.cells[0].source.endswith(settings.framework("tensorflow").setup)
    assert "$$a = b$$" in nb.cells[1].source and "English" not in nb.cells[1].source
    assert nb.metadata.kernelspec == {"name": "dlbook-tensorflow-cpu", "display_name": "TensorFlow (CPU)",
                                      "language": "python"}


def test_markers_become_tags_that_nbval_and_jupyter_understand(chapter, settings):
    nb = render_jupyter.make_notebook(chapter, "en", settings.framework("pytorch"), settings)
    setup, _, solution, raising = nb.cells
    assert setup.metadata.tags == ["setup"] and "torch.manual_seed(0)" in setup.source
    assert solution.metadata.tags == ["solution"]
    assert solution.metadata.jupyter == {"source_hidden": True}
    assert raising.metadata.tags == ["nbval-ignore-output", "raises-exception"]


def test_the_setup_cell_is_titled_collapsed_in_jupyterlab_and_a_form_on_colab(chapter, settings):
    for lang in settings.language_codes:
        setup = render_jupyter.make_notebook(chapter, lang, settings.framework("pytorch"), settings).cells[0]
        assert setup.source.splitlines()[0] == f"#@title {text(lang, 'setup_title')}"
        assert setup.metadata.jupyter == {"source_hidden": True} and setup.metadata.cellView == "form"
    assert text("pt", "setup_title") == "Configuração: sementes e, no Colab, as versões fixadas"


def test_the_cache_key_is_what_runs_the_same_in_every_language(chapter, settings):
    """One run serves every language: the key hashes what a run executes (the framework's setup,
    the cells), not the setup cell's title or language line; any change to the code itself, even a
    comment, changes it."""
    framework = settings.framework("pytorch")
    en, pt = (render_jupyter.make_notebook(chapter, lang, framework, settings) for lang in ("en", "pt"))
    assert en.cells[0].source != pt.cells[0].source
    assert [notebooks.code_only(c.source) for c in en.cells if c.cell_type == "code"] == \
        [notebooks.code_only(c.source) for c in pt.cells if c.cell_type == "code"]
    key = execute.cache_key(execution_code(chapter, framework), "env")
    assert key == execute.cache_key(execution_code(chapter, framework), "env")
    edited = read_chapter(Path("chapters/part/section.md"), settings, text=CHAPTER.replace(
        "raise ValueError", "raise ValueError  # one more comment"))
    assert execute.cache_key(execution_code(edited, framework), "env") != key
    assert execute.cache_key(execution_code(chapter, framework), "env", library="abc") != key


FIGURES = """\
:begin_lang:`en`
# Shapes
Figure :numref:`fig_square` and table :numref:`tab_sizes`.

![A unit square](img/square.png)
:label:`fig_square`

![A picture that is not there](img/missing.png)

:Sizes of the layers

| in | out |
|---|---|
| 4 | 2 |
:label:`tab_sizes`
:end_lang:

:begin_lang:`pt`
# Formas
A figura :numref:`fig_square` e a tabela :numref:`tab_sizes`.

![Um quadrado unitário](img/square.png)
:label:`fig_square`

![Uma imagem que não existe](img/missing.png)

:Tamanhos das camadas

| entrada | saída |
|---|---|
| 4 | 2 |
:label:`tab_sizes`
:end_lang:
"""


def test_figures_travel_with_the_notebook_and_are_numbered_as_in_the_html(tiny_book):
    (tiny_book / "_toc.yml").write_text("format: jb-book\nroot: chapters/index\noptions:\n  numbered: true\n"
                                       "chapters:\n  - file: chapters/part/shapes\n")
    image = tiny_book / "chapters" / "part" / "img" / "square.png"
    image.parent.mkdir(parents=True)
    image.write_bytes(b"\x89PNG\r\n\x1a\n not really an image")
    (tiny_book / "chapters" / "part" / "shapes.md").write_text(FIGURES)
    (tiny_book / "chapters" / "index.md").write_text("# Book\n")
    settings = load_settings(tiny_book)
    chapters = [read_chapter(tiny_book / "chapters" / name, settings) for name in ("index.md", "part/shapes.md")]
    numbering = book_numbering(chapters, settings)
    notebook = render_jupyter.make_notebook(chapters[1], "pt", settings.framework("mxnet"), settings, numbering)
    (cell,) = notebook.cells
    assert "A figura [Fig. 1.1](#fig_square) e a tabela [Tabela 1.1](#tab_sizes)." in cell.source
    uri = f"data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()}"
    assert f'<a id="fig_square"></a>\n![Um quadrado unitário]({uri})\n\n*Fig. 1.1* Um quadrado unitário' in cell.source
    assert "![Uma imagem que não existe](img/missing.png)" in cell.source  # no file: the path, as written
    assert '<a id="tab_sizes"></a>\n*Tabela 1.1* Tamanhos das camadas\n\n| entrada | saída |' in cell.source
    notebooks.dumps(notebook)  # a valid notebook, images included


def test_identical_code_has_identical_ids_in_every_language(chapter, settings):
    framework = settings.framework("mxnet")
    en = render_jupyter.make_notebook(chapter, "en", framework, settings)
    pt = render_jupyter.make_notebook(chapter, "pt", framework, settings)
    assert [c.id for c in en.cells if c.cell_type == "code"] == [c.id for c in pt.cells if c.cell_type == "code"]
    assert notebooks.dumps(en) == notebooks.dumps(render_jupyter.make_notebook(chapter, "en", framework, settings))


def test_save_is_atomic_and_skips_unchanged_files(chapter, settings, tmp_path, monkeypatch):
    path = tmp_path / "nb.ipynb"
    nb = render_jupyter.make_notebook(chapter, "en", settings.framework("mxnet"), settings)
    assert notebooks.save(nb, path) is True
    assert notebooks.save(nb, path) is False
    before = path.read_text()
    nb.cells[1].source += "\nMore."

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError):
        notebooks.save(nb, path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["nb.ipynb"]  # no temporary file left behind
    assert json.loads(before)["nbformat"] == 4


def run_setup(source: str, monkeypatch, on_colab: bool) -> list[list[str]]:
    """Run a setup cell's code as a kernel would, with or without Colab; return the commands it ran."""
    commands: list[list[str]] = []
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: commands.append(command))
    exec(compile(source, "setup", "exec"), {})
    return commands


def test_setup_cell_installs_the_pinned_framework_on_colab_only(tiny_book, monkeypatch, capsys):
    settings = load_settings(tiny_book)
    (tiny_book / "envs" / "tensorflow.txt").write_text(
        "# TensorFlow kernel\n# python: 3.11\ntensorflow-cpu==2.21.0\nkeras==3.15.1  # Keras 3\nnumpy==2.4.6\n"
        "ipykernel==6.31.0\n")
    framework = settings.framework("tensorflow")
    source = render_jupyter.setup_source(framework)
    assert run_setup(source, monkeypatch, on_colab=False) == []
    assert capsys.readouterr() == ("", "")  # nothing printed off Colab: nbval compares the outputs
    # On Colab: the kernel environment's pins, as the full package Colab ships, without ipykernel.
    assert run_setup(source, monkeypatch, on_colab=True) == [
        [sys.executable, "-m", "pip", "install", "--quiet", "tensorflow==2.21.0", "keras==3.15.1", "numpy==2.4.6"]]


def test_on_colab_the_cpu_build_of_torch_becomes_pypis_and_pip_options_stay_behind(tiny_book, monkeypatch):
    settings = load_settings(tiny_book)
    (tiny_book / "envs" / "pytorch.txt").write_text(
        "# python: 3.11\n--extra-index-url https://download.pytorch.org/whl/cpu\ntorch==2.13.0+cpu\nnumpy==2.3.5\n"
        "ipykernel==6.31.0\n")
    source = render_jupyter.setup_source(settings.framework("pytorch"))
    assert run_setup(source, monkeypatch, on_colab=True) == [
        [sys.executable, "-m", "pip", "install", "--quiet", "torch==2.13.0", "numpy==2.3.5"]]


def test_a_framework_colab_cannot_install_says_so_and_points_to_binder(tiny_book, monkeypatch):
    settings = load_settings(tiny_book)
    framework = settings.framework("mxnet")
    assert framework.colab is False  # as _config.yml says for MXNet
    source = render_jupyter.setup_source(framework)
    assert run_setup(source, monkeypatch, on_colab=False) == []
    with pytest.raises(RuntimeError, match=r"cannot install MXNet 1\.0.*Binder"):
        run_setup(source, monkeypatch, on_colab=True)
    chapter = read_chapter(Path("chapters/part/section.md"), settings, text=CHAPTER)
    for lang, words in (("en", "Launch it in Binder"), ("pt", "Abra-o no Binder")):
        note, setup = render_jupyter.make_notebook(chapter, lang, framework, settings).cells[:2]
        binder = settings.repository.binder_url(f"notebooks/{lang}/mxnet/{chapter.name}.ipynb")
        assert note.cell_type == "markdown" and f"[{words}]({binder})" in note.source
        # The same code in every language, under a title in the notebook's and after the line that
        # tells the kernel its language: one execution serves both.
        assert setup.source == f"#@title {text(lang, 'setup_title')}\n{source}".replace(
            "import sys\n", f'import os\nimport sys\nos.environ["DLBOOK_LANGUAGE"] = "{lang}"  # the language of '
            "the book's plots\n", 1)
        assert notebooks.code_only(setup.source) == source.replace("import sys\n", "import os\nimport sys\n", 1)
    pytorch = render_jupyter.make_notebook(chapter, "en", settings.framework("pytorch"), settings)
    assert pytorch.cells[0].cell_type == "code"  # Colab can run it: no note
