"""The notebook writer: one notebook per language and framework, deterministic and atomic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bookbuild import notebooks
from bookbuild.read import read_chapter

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
    nb = notebooks.make_notebook(chapter, "pt", settings.framework("tensorflow"), settings)
    kinds = [(c.cell_type, c.source.splitlines()[0]) for c in nb.cells]
    assert kinds == [("code", "import tensorflow as tf"), ("markdown", "# Título"), ("code", "print(1)"),
                     ("markdown", "Nota sobre Keras.")]
    assert "$$a = b$$" in nb.cells[1].source and "English" not in nb.cells[1].source
    assert nb.metadata.kernelspec == {"name": "dlbook-tensorflow-cpu", "display_name": "TensorFlow (CPU)",
                                      "language": "python"}


def test_markers_become_tags_that_nbval_and_jupyter_understand(chapter, settings):
    nb = notebooks.make_notebook(chapter, "en", settings.framework("pytorch"), settings)
    setup, _, solution, raising = nb.cells
    assert setup.metadata.tags == ["setup"] and "torch.manual_seed(0)" in setup.source
    assert solution.metadata.tags == ["solution"]
    assert solution.metadata.jupyter == {"source_hidden": True}
    assert raising.metadata.tags == ["nbval-ignore-output", "raises-exception"]


def test_identical_code_has_identical_ids_in_every_language(chapter, settings):
    framework = settings.framework("mxnet")
    en = notebooks.make_notebook(chapter, "en", framework, settings)
    pt = notebooks.make_notebook(chapter, "pt", framework, settings)
    assert [c.id for c in en.cells if c.cell_type == "code"] == [c.id for c in pt.cells if c.cell_type == "code"]
    assert notebooks.dumps(en) == notebooks.dumps(notebooks.make_notebook(chapter, "en", framework, settings))


def test_save_is_atomic_and_skips_unchanged_files(chapter, settings, tmp_path, monkeypatch):
    path = tmp_path / "nb.ipynb"
    nb = notebooks.make_notebook(chapter, "en", settings.framework("mxnet"), settings)
    assert notebooks.save(nb, path) is True
    assert notebooks.save(nb, path) is False
    before = path.read_text()
    nb.cells[1].source += "\nMore."

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(notebooks.os, "replace", crash)
    with pytest.raises(OSError):
        notebooks.save(nb, path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["nb.ipynb"]  # no temporary file left behind
    assert json.loads(before)["nbformat"] == 4
