"""Execution with the content cache, on a tiny book whose frameworks all use the `python3` kernel."""

from __future__ import annotations

import nbformat
import pytest

from bookbuild import envs, execute
from bookbuild.build import build_notebooks, read_book, stale_notebooks
from bookbuild.settings import load_settings

SECTION = """\
:begin_lang:`en`
# Section
Prose.
:end_lang:

:begin_lang:`pt`
# Seção
Texto.
:end_lang:

```{.python .input}
#@tab mxnet, pytorch, tensorflow
print(FRAMEWORK, random.random())
```

```{.python .input}
#@tab pytorch
x = 6 * 7
x
```
"""


def build(book):
    settings = load_settings(book)
    return build_notebooks(read_book(settings), settings, settings.notebooks_dir, log=lambda m: None)


def edit(book, old: str, new: str, path: str = "chapters/part/section.md") -> None:
    file = book / path
    file.write_text(file.read_text().replace(old, new))


def snapshot(book) -> dict[str, bytes]:
    return {str(p.relative_to(book)): p.read_bytes() for p in sorted((book / "notebooks").rglob("*.ipynb"))}


def outputs(book, path: str) -> list[str]:
    """Every output of the notebook's code cells, as text."""
    cells = nbformat.read(book / path, as_version=4).cells
    return ["".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") or o.get("evalue", ""))
            for c in cells if c.cell_type == "code" for o in c.outputs]


def test_each_section_and_framework_runs_once_for_both_languages(book):
    report = build(book)
    assert (report.kernels_started, len(report.written), report.failures) == (3, 6, [])
    # The setup cell seeded `random` before the chapter's first cell.
    assert outputs(book, "notebooks/pt/pytorch/part/section.ipynb") == ["pytorch 0.8444218515250481\n", "42"]
    assert outputs(book, "notebooks/en/pytorch/part/section.ipynb") == ["pytorch 0.8444218515250481\n", "42"]
    assert outputs(book, "notebooks/en/mxnet/part/section.ipynb") == ["mxnet 0.8444218515250481\n"]


def test_unchanged_rebuild_and_prose_edit_start_no_kernel(book):
    build(book)
    again = build(book)
    assert (again.kernels_started, again.written) == (0, [])
    edit(book, "Texto.", "Outro texto.")
    prose = build(book)
    assert prose.kernels_started == 0
    assert sorted(p.parts[-4] + "/" + p.parts[-3] for p in prose.written) == ["pt/mxnet", "pt/pytorch", "pt/tensorflow"]


def test_a_code_edit_reruns_only_its_framework(book):
    build(book)
    edit(book, "x = 6 * 7", "x = 6 * 8")
    report = build(book)
    assert report.kernels_started == 1
    assert outputs(book, "notebooks/en/pytorch/part/section.ipynb")[-1] == "48"


def test_a_framework_upgrade_reruns_that_framework(book):
    build(book)
    requirements = book / "envs" / "tensorflow.txt"
    requirements.write_text(requirements.read_text().replace("tensorflow==1.0", "tensorflow==2.0"))
    assert build(book).kernels_started == 1


def test_a_package_source_is_not_part_of_the_environment(book):
    """An index says where a pinned wheel comes from, not which: moving it re-runs nothing."""
    build(book)
    requirements = book / "envs" / "pytorch.txt"
    before = envs.fingerprint(requirements)
    requirements.write_text("--extra-index-url https://download.pytorch.org/whl/cpu\n" + requirements.read_text()
                            + "--find-links=/srv/wheels\n")
    assert envs.fingerprint(requirements) == before and build(book).kernels_started == 0
    requirements.write_text(requirements.read_text().replace("==1.0", "==1.0+cpu"))
    assert envs.fingerprint(requirements) != before and build(book).kernels_started == 1


def test_a_rebuild_from_scratch_is_byte_identical(book):
    build(book)
    first = snapshot(book)
    for path in (book / "notebooks").rglob("*.ipynb"):
        path.unlink()
    assert build(book).kernels_started == 3
    assert snapshot(book) == first


def test_a_failing_cell_names_file_line_framework_and_keeps_the_old_notebook(book):
    build(book)
    before = snapshot(book)
    edit(book, "x = 6 * 7", "x = 6 * undefined_name")
    report = build(book)
    assert len(report.failures) == 1
    failure = report.failures[0]
    assert failure.startswith("chapters/part/section.md:16: [pytorch] cell failed")
    assert "NameError" in failure and "undefined_name" in failure
    assert snapshot(book) == before


def test_a_cell_past_its_timeout_names_line_and_framework_and_keeps_the_old_notebook(book):
    build(book)
    before = snapshot(book)
    config = book / "_config.yml"
    config.write_text(config.read_text().replace("  default_tab: pytorch\n", "  default_tab: pytorch\n  timeout: 1\n"))
    edit(book, "x = 6 * 7", "import time\ntime.sleep(30)\nx = 6 * 7")
    report = build(book)
    assert report.failures == ["chapters/part/section.md:16: [pytorch] cell ran past its timeout of 1 s: give it "
                               "longer with `#@timeout SECONDS` on its first lines, or raise bookbuild.timeout "
                               "in _config.yml"]
    assert snapshot(book) == before
    # The cell asks for more time than the book's 1 s, and gets it.
    edit(book, "#@tab pytorch\n", "#@tab pytorch\n#@timeout 30\n")
    edit(book, "time.sleep(30)", "time.sleep(2)")
    report = build(book)
    assert report.failures == [] and report.kernels_started == 1


def test_a_cell_marked_raises_must_raise(book):
    edit(book, "#@tab pytorch\n", "#@tab pytorch\n#@raises\n")
    report = build(book)
    assert report.failures and "marked #@raises but raised nothing" in report.failures[0]
    edit(book, "x = 6 * 7", "x = 1 / 0")
    report = build(book)
    assert report.failures == []
    notebook = (book / "notebooks/en/pytorch/part/section.ipynb").read_text()
    assert "ZeroDivisionError: division by zero" in notebook and "Traceback" not in notebook


def test_freshness_names_stale_missing_and_orphan_notebooks(book):
    build(book)
    settings = load_settings(book)
    assert stale_notebooks(read_book(settings), settings) == []
    edit(book, "Prose.", "New prose.")
    edit(book, "x = 6 * 7", "x = 7 * 6")
    (book / "notebooks/pt/mxnet/part/section.ipynb").unlink()
    orphan = book / "notebooks/en/mxnet/old.ipynb"
    orphan.write_text("{}")
    problems = stale_notebooks(read_book(settings), settings)
    assert problems == [
        "notebooks/en/mxnet/part/section.ipynb: differs from what chapters/part/section.md produces",
        "notebooks/pt/mxnet/part/section.ipynb: missing",
        "notebooks/en/pytorch/part/section.ipynb: its code or kernel environment changed since it was executed",
        "notebooks/pt/pytorch/part/section.ipynb: its code or kernel environment changed since it was executed",
        "notebooks/en/tensorflow/part/section.ipynb: differs from what chapters/part/section.md produces",
        "notebooks/en/mxnet/old.ipynb: no chapter produces it",
    ]


def test_outputs_in_the_readers_language_run_once_per_language_and_are_cached(book):
    """An output that says which language it is in (as the book's plots do) makes its pair run once
    per language, each run told its notebook's language by the setup cell; the others run once."""
    edit(book, "x = 6 * 7\nx", 'from IPython import display\nimport os\nlang = os.environ["DLBOOK_LANGUAGE"]\n'
         'display.display({"text/plain": f"in {lang}"}, metadata={"language": lang}, raw=True)')
    report = build(book)
    assert (report.kernels_started, len(report.written), report.failures) == (4, 6, [])
    for lang in ("en", "pt"):
        assert outputs(book, f"notebooks/{lang}/pytorch/part/section.ipynb")[-1] == f"in {lang}"
    assert outputs(book, "notebooks/pt/mxnet/part/section.ipynb") == ["mxnet 0.8444218515250481\n"]
    assert build(book).kernels_started == 0
    settings = load_settings(book)
    assert stale_notebooks(read_book(settings), settings) == []


def _kernel_that_dies_first(monkeypatch, deaths: int) -> list[int]:
    """Make the first ``deaths`` kernel starts fail as a kernel does whose port another kernel
    took between the choice and the bind; return the count of starts."""
    from nbclient import NotebookClient

    real = NotebookClient.setup_kernel
    starts = [0]

    def setup_kernel(self, **kwargs):
        starts[0] += 1
        if starts[0] <= deaths:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(self, **kwargs)

    monkeypatch.setattr(NotebookClient, "setup_kernel", setup_kernel)
    return starts


def test_a_kernel_that_dies_while_starting_is_started_once_more(monkeypatch):
    starts = _kernel_that_dies_first(monkeypatch, deaths=1)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    done = execute.run(notebook, "python3", timeout=60)
    assert starts[0] == 2 and done.cells[0].outputs[0].text == "42\n"


def test_a_kernel_that_dies_at_every_start_is_a_failure_of_the_run(monkeypatch):
    starts = _kernel_that_dies_first(monkeypatch, deaths=execute.START_ATTEMPTS)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    with pytest.raises(execute.CellFailure, match="Kernel died before replying") as failure:
        execute.run(notebook, "python3", timeout=60)
    assert failure.value.index == -1 and starts[0] == execute.START_ATTEMPTS
