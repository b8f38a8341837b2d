"""`bookbuild test-notebooks`: one pytest-xdist run over every framework, per-framework verdicts,
shards, and progress lines; on the tiny book, its notebooks re-run on the `python3` kernel."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import REPO, build_tiny_book, copy_of

from bookbuild import nbval_run, progress, schedule
from bookbuild.build import read_book
from bookbuild.schedule import Shard, Timings, timings_path
from bookbuild.settings import load_settings

CODE = """\
```{{.python .input}}
#@tab mxnet, pytorch, tensorflow
print(FRAMEWORK, {n} * 6)
```
"""
# The notebooks name the book's CPU kernels; here every one of them runs on `python3`.
ON_PYTHON3 = [argument for name in ("mxnet", "pytorch", "tensorflow")
              for argument in ("--bookbuild-kernel", f"dlbook-{name}-cpu=python3")]


@pytest.fixture(scope="module")
def built_once(tmp_path_factory):
    root = build_tiny_book(tmp_path_factory.mktemp("nbval"), CODE, 3)
    (root / "tests").mkdir()
    shutil.copy(REPO / nbval_run.SANITIZER, root / nbval_run.SANITIZER)
    return root


@pytest.fixture
def book(built_once, tmp_path, monkeypatch):
    return copy_of(built_once, tmp_path, monkeypatch)


def nbval(book, **options) -> int:
    settings = load_settings(book)
    return nbval_run.run_nbval(settings, list(settings.framework_names), ON_PYTHON3, **options)


def test_every_framework_passes_in_one_parallel_run(book, capsys):
    assert nbval(book, jobs=2, show=progress.display) == 0
    out, err = capsys.readouterr()
    for name in ("mxnet", "pytorch", "tensorflow"):
        assert f"== nbval [{name}] on kernel python3: 6 notebooks, 0 cells with outputs not compared" in out
    assert "== 18 notebooks, 2 at a time (-j 2)" in out
    assert "bringing up nodes" in out  # pytest-xdist ran them
    assert out.count("nbval: finished ") == 18 and "nbval: ended: 18/18 done" in out
    assert "nbval on the CPU kernels: mxnet, pytorch, tensorflow passed" in out and err == ""


def test_a_changed_output_fails_its_framework_only(book, capsys):
    path = book / "notebooks" / "pt" / "pytorch" / "part" / "s2.ipynb"
    notebook = json.loads(path.read_text())
    [cell] = [c for c in notebook["cells"] if c["cell_type"] == "code" and "print(FRAMEWORK" in "".join(c["source"])]
    cell["outputs"][0]["text"] = ["pytorch 13\n"]
    path.write_text(json.dumps(notebook, indent=1))
    assert nbval(book, jobs=2) == 1
    out, err = capsys.readouterr()
    assert "nbval on the CPU kernels: mxnet, tensorflow passed; pytorch FAILED" in err
    assert "1 failed" in out and "notebooks/pt/pytorch/part/s2.ipynb::Cell 1" in out


def test_a_shard_tests_its_pairs_only_and_the_shards_test_them_all(book, capsys):
    seen = []
    for index in (1, 2):
        assert nbval(book, jobs=1, shard=Shard(index, 2), show=progress.display) == 0
        out = capsys.readouterr().out
        seen += [line.split("finished ")[1].split(" in ")[0] for line in out.splitlines() if "nbval: finished" in line]
        assert "bringing up nodes" not in out  # -j 1: plain pytest, no xdist
    assert sorted(seen) == sorted(f"{lang}/{name}/part/s{n}" for lang in ("en", "pt")
                                  for name in ("mxnet", "pytorch", "tensorflow") for n in (1, 2, 3))


def test_a_framework_without_notebooks_in_a_shard_is_not_a_failure(book, capsys):
    settings = load_settings(book)
    assert nbval_run.run_nbval(settings, ["pytorch"], ON_PYTHON3, shard=Shard(3, 3), jobs=1) == 0
    assert "nbval on the CPU kernels: pytorch passed" in capsys.readouterr().out


def test_a_missing_notebook_fails_its_framework_by_name(book, capsys):
    (book / "notebooks" / "en" / "mxnet" / "part" / "s1.ipynb").unlink()
    settings = load_settings(book)
    pairs = schedule.book_pairs(read_book(settings), settings, ["mxnet"])
    cost = Timings.load(timings_path(settings)).estimate
    [shard] = [Shard(i, 3) for i in (1, 2, 3) if [str(p) for p in schedule.shard_of(pairs, Shard(i, 3), cost)]
               == ["part/s1 [mxnet]"]]  # the shard that holds section 1 alone
    assert nbval_run.run_nbval(settings, ["mxnet"], ON_PYTHON3, shard=shard, jobs=1) == 1
    out, err = capsys.readouterr()
    assert "notebooks/en/mxnet/part/s1.ipynb: missing (run `make notebooks`)" in err
    assert "== nbval [mxnet] on kernel python3: 1 notebooks" in out  # the Portuguese one still runs
    assert "nbval on the CPU kernels: mxnet FAILED" in err


def test_notebooks_run_on_the_kernel_they_are_mapped_to_on_every_worker(book, capsys):
    """What `make test-gpu` relies on: the GPU kernel replaces the CPU one the notebooks name."""
    settings = load_settings(book)
    elsewhere = ["--bookbuild-kernel", "dlbook-pytorch-cpu=no-such-kernel"] + ON_PYTHON3[:2] + ON_PYTHON3[4:]
    assert nbval_run.run_nbval(settings, ["mxnet", "pytorch"], elsewhere, jobs=2) == 1
    out, err = capsys.readouterr()
    assert "nbval on the CPU kernels: mxnet passed; pytorch FAILED" in err
    assert "No such kernel named no-such-kernel" in out
