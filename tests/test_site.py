"""The site assembler: one page per section and language, tagged for the tab extension."""

from __future__ import annotations

import pytest

from bookbuild import site
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
    groups = site.code_groups(cells, ["mxnet", "pytorch", "tensorflow"])
    assert [[(f, c.line) for f, c in group] for group in groups] == [
        [("mxnet", 1), ("pytorch", 2), ("tensorflow", 2)], [("pytorch", 3), ("mxnet", 4)]]


def test_a_page_holds_every_framework_with_its_outputs_and_tags(book):
    settings = load_settings(book)
    chapters = read_book(settings)
    assert build_notebooks(chapters, settings, settings.notebooks_dir, log=lambda m: None).failures == []
    page = site.site_notebook(chapters[0], "pt", settings)
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
    with pytest.raises(site.StaleNotebook, match="notebooks/en/mxnet/part/section.ipynb is missing or stale"):
        site.site_notebook(read_book(settings)[0], "en", settings)


def test_each_edition_config_derives_from_the_book_config(settings):
    chapters = read_book(settings)
    pt = site.edition_config(settings, "pt", chapters)
    assert pt["title"] == "Deep Learning na Prática" and "bookbuild" not in pt
    assert pt["sphinx"]["config"]["language"] == "pt_BR"
    assert pt["sphinx"]["config"]["bookbuild_solution_title"] == "Solução"
    assert pt["sphinx"]["config"]["bookbuild_frameworks"][1] == ["pytorch", "PyTorch"]
    en = site.edition_config(settings, "en", chapters)
    assert en["sphinx"]["config"]["language"] == "en" and en["execute"] == pt["execute"]
