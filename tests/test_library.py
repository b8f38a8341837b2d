"""The book's library: `#@save` code collected in book order into one module per framework, which
later sections import; a change to saved code re-executes exactly the sections that import it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from bookbuild import envs, library, render_jupyter
from bookbuild.build import build_notebooks, read_book, stale_notebooks
from bookbuild.check import check_chapter
from bookbuild.read import read_chapter
from bookbuild.settings import load_settings

REPO = Path(__file__).resolve().parent.parent


def chapter(title: str, *cells: str) -> str:
    """A bilingual chapter with one heading and the given code cells."""
    fences = "".join(f"\n```{{.python .input}}\n{textwrap.dedent(cell).strip()}\n```\n" for cell in cells)
    return (f":begin_lang:`en`\n# {title}\nText.\n:end_lang:\n\n:begin_lang:`pt`\n# {title}\nTexto.\n:end_lang:\n"
            + fences)


ALL = "#@tab mxnet, pytorch, tensorflow"  # `#@tab all` alone would not name the frameworks (d2lbook)
SAVER = chapter("Saver", f"""
    {ALL}
    def greet(name):  #@save
        return f'hello, {{name}}'

    print(greet('saver'))
    """)
USER = chapter("User", *(f"""
    #@tab {framework}
    from dlbook import {module} as dlb
    print(dlb.greet('{framework}'))
    """ for framework, module in (("mxnet", "mxnet"), ("pytorch", "torch"), ("tensorflow", "tensorflow"))))
OTHER = chapter("Other", f"{ALL}\nprint(6 * 7)")


@pytest.fixture
def three(tiny_book, monkeypatch):
    """A book of three chapters: one saves a function, a later one imports it, one does neither.
    The table of contents puts them out of alphabetical order."""
    monkeypatch.setattr(envs, "ensure_kernel", lambda framework, log=print, device="cpu": "python3")
    for name, text in (("saver", SAVER), ("user", USER), ("other", OTHER)):
        path = tiny_book / "chapters" / "part" / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tiny_book / "_toc.yml").write_text("format: jb-book\nroot: chapters/part/other\nchapters:\n"
                                        "  - file: chapters/part/saver\n  - file: chapters/part/user\n")
    return tiny_book


def build(book: Path):
    settings = load_settings(book)
    return build_notebooks(read_book(settings), settings, settings.notebooks_dir, log=lambda message: None)


def ran(report) -> list[str]:
    """The (chapter, framework) pairs a build executed, from the notebooks it wrote in English."""
    return sorted({f"{p.stem}/{p.parts[-3]}" for p in report.written if p.parts[-4] == "en"})


def outputs(book: Path, path: str) -> list[str]:
    cells = nbformat.read(book / path, as_version=4).cells
    return ["".join(o.get("text", "")) for c in cells if c.cell_type == "code" for o in c.outputs]


def edit(book: Path, name: str, old: str, new: str) -> None:
    path = book / "chapters" / "part" / f"{name}.md"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))


# d2lbook's rule for what a mark saves (the differential test checks it against d2lbook itself).
SAVED = [
    ("def f():  #@save\n    return 1\n\nprint(f())", "def f():\n    return 1"),
    ("#@save\nimport math\nX = 2\n\nprint(X)", "import math\nX = 2"),
    ("#@save\ndef f(x):\n    y = x\n\n    return y\nprint(1)", "def f(x):\n    y = x\n\n    return y"),
    ("class A:  # @save\n    def m(self):\n        return 0\n\nA()", "class A:\n    def m(self):\n        return 0"),
    ("N = 3  #@save\n\ndef g():  #@save\n    return N\n\ng()", "N = 3\n\ndef g():\n    return N"),
    ("@decorate  #@save\ndef h():\n    pass", "@decorate\ndef h():\n    pass"),
    ("def nothing():\n    return None", ""),
    ("TABLE = {  #@save\n    'a': 1,\n    'b': 2}\nTABLE", "TABLE = {\n    'a': 1,\n    'b': 2}"),
]


@pytest.mark.parametrize(("source", "saved"), SAVED)
def test_a_mark_saves_what_d2lbook_saves(source, saved):
    assert library.saved_block(source) == saved


@pytest.mark.parametrize(("source", "line"), [
    ("#@save\ndef f():\n    return 1\n\ndef g():\n    return 2", 4),   # a second definition
    ("#@save\nimport os\n\nos.getcwd()", 3),                         # code after a blank line
    ("#@save\ndef f():\n    return 1\nf()", 3),                         # a call after the body
    ("#@save\nimport os\nimport sys", None),                          # all of it is saved
    ("#@save\nX = 1\n\ndef f():  #@save\n    return X", None),        # every part has its mark
    ("def f():  #@save\n    return 1\n\nf()", None),                  # a definition's mark saves it alone
])
def test_a_whole_cell_mark_that_would_leave_code_out_is_found(source, line):
    assert library.left_out(source) == line


def test_the_book_rejects_saved_cells_that_lose_code_or_do_not_compile_and_wrong_modules(tiny_book):
    settings = load_settings(tiny_book)
    text = chapter("Broken",
                   "#@tab all\n#@save\ndef f():\n    return 1\n\nprint(f())",
                   "#@tab all\ndef g(:  #@save\n    pass",
                   "#@tab pytorch\nfrom dlbook import mxnet as dlb",
                   "#@tab tensorflow\nfrom dlbook import tensorflow as dlb\nimport dlbook")
    problems = [d for d in check_chapter(read_chapter(Path("chapters/part/broken.md"), settings, text=text), settings)
                if not d.warning]
    assert [(d.line, d.message.split(":")[0]) for d in problems] == [
        (11, "#@save saves this cell only up to the end of its first definition (d2lbook's rule)"),
        (20, "the code this cell saves with #@save is not valid Python on its own"),
        (26, "the pytorch cell imports dlbook.mxnet, but pytorch's module of the library is dlbook.torch"),
    ]
    assert "'print(f())' and what follows would be left out" in problems[0].message


@pytest.mark.parametrize(("source", "modules"), [
    ("from dlbook import torch as dlb", {"torch"}),
    ("import dlbook.torch as dlb", {"torch"}),
    ("from dlbook.mxnet import gpu_or_cpu", {"mxnet"}),
    ("import dlbook", {""}),
    ("%matplotlib inline\nfrom dlbook import tensorflow as dlb\n!ls", {"tensorflow"}),
    ("x = 1 +\nfrom dlbook import torch", {"torch"}),  # a cell Python cannot parse: line by line
    ("print('dlbook is the library')  # dlbook", None),
    ("from mydlbook import torch", None),
    ("from .dlbook import torch", None),
])
def test_a_cell_imports_the_library_when_python_would(source, modules):
    assert library.imported_modules(source, "dlbook") == modules


def test_the_library_is_collected_in_book_order_with_one_module_per_framework(three):
    settings = load_settings(three)
    build(three)
    package = three / "lib" / "dlbook"
    assert sorted(p.name for p in package.iterdir()) == ["__init__.py", "mxnet.py", "tensorflow.py", "torch.py"]
    torch = (package / "torch.py").read_text()
    assert "# From chapters/part/saver.md\ndef greet(name):\n    return f'hello, {name}'\n" in torch
    assert "print(" not in torch and "GENERATED" not in torch and "Generated by `bookbuild notebooks`" in torch
    compile(torch, "torch.py", "exec")
    # A second saving chapter, first in _toc.yml but last by name, comes first in the module.
    (three / "chapters/part/other.md").write_text(chapter("Other", f"{ALL}\nGREETING = 'hi'  #@save"))
    library.write_library(read_book(settings), settings)
    torch = (package / "torch.py").read_text()
    assert torch.index("GREETING = 'hi'") < torch.index("def greet")
    assert (three / "lib" / "pyproject.toml").read_text().count('name = "dlbook"') == 1


def test_a_saved_change_reruns_the_sections_that_import_the_library_and_no_others(three):
    first = build(three)
    assert ran(first) == ["other/mxnet", "other/pytorch", "other/tensorflow", "saver/mxnet", "saver/pytorch",
                          "saver/tensorflow", "user/mxnet", "user/pytorch", "user/tensorflow"]
    assert outputs(three, "notebooks/en/pytorch/part/user.ipynb") == ["hello, pytorch\n"]
    assert build(three).kernels_started == 0

    edit(three, "saver", "return f'hello, {name}'", "return f'hi, {name}'")  # saved code
    report = build(three)
    assert ran(report) == ["saver/mxnet", "saver/pytorch", "saver/tensorflow",
                           "user/mxnet", "user/pytorch", "user/tensorflow"]
    assert report.kernels_started == 6
    assert outputs(three, "notebooks/pt/tensorflow/part/user.ipynb") == ["hi, tensorflow\n"]  # the new library ran

    edit(three, "saver", "print(greet('saver'))", "print(greet('SAVER'))")  # code that is not saved
    report = build(three)
    assert ran(report) == ["saver/mxnet", "saver/pytorch", "saver/tensorflow"] and report.kernels_started == 3
    settings = load_settings(three)
    assert stale_notebooks(read_book(settings), settings) == []


def test_freshness_covers_the_library(three):
    build(three)
    settings = load_settings(three)
    module = three / "lib/dlbook/torch.py"
    module.write_text(module.read_text() + "\nEDITED = True\n")
    (three / "lib/dlbook/jax.py").write_text("")
    problems = stale_notebooks(read_book(settings), settings)
    assert problems[:2] == ["lib/dlbook/torch.py: differs from what the chapters' #@save cells produce",
                            "lib/dlbook/jax.py: no framework's saved code produces it"]
    # A saved change that was not rebuilt: the library and the notebooks that import it are stale.
    build(three)
    edit(three, "saver", "return f'hello, {name}'", "return f'hi, {name}'")
    problems = stale_notebooks(read_book(settings), settings)
    assert "lib/dlbook/torch.py: differs from what the chapters' #@save cells produce" in problems
    assert ("notebooks/en/pytorch/part/user.ipynb: its code, its kernel environment or the library it imports "
            "changed since it was executed") in problems
    assert not any("other.ipynb" in problem for problem in problems)


def test_a_notebook_that_imports_the_library_installs_it_on_colab_from_the_pinned_branch(three):
    settings = load_settings(three)
    chapters = {c.name: c for c in read_book(settings)}
    pytorch = settings.framework("pytorch")
    user = render_jupyter.make_notebook(chapters["part/user"], "en", pytorch, settings).cells[0].source
    other = render_jupyter.make_notebook(chapters["part/other"], "en", pytorch, settings).cells[0].source
    assert '"dlbook @ git+https://github.com/dl-hands-on/book@main#subdirectory=lib"' in user
    assert "dlbook" not in other  # a notebook that does not import the library does not install it


def installed_by_the_setup_cell(settings, framework, tmp_path, monkeypatch) -> Path:
    """Run a library notebook's setup cell on a fake Colab, as the other setup-cell tests do, with
    pip pointed at this checkout's library folder instead of GitHub (which this machine cannot
    reach) and installing into a folder of its own: the library as Colab gets it."""
    source = render_jupyter.setup_source(settings.framework(framework), "pt",
                                         render_jupyter.library_requirement(settings))
    python = envs.python_of(envs.ensure_env(framework, settings.framework(framework).requirements))
    target = tmp_path / "site-packages"
    commands = []
    pip_install = subprocess.run

    def pip(command, **kwargs):
        commands.append(command)
        url = next(r for r in command if r.startswith("dlbook @ ")).split(" @ ", 1)[1]
        assert url == f"git+{settings.repository.url}@{settings.repository.branch}#subdirectory=lib"
        source = tmp_path / "repository-lib"  # pip builds in the folder it is given: not in the checkout
        shutil.copytree(settings.library_dir, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
        pip_install([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                     "--target", str(target), str(source)], check=True)

    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    monkeypatch.setattr(subprocess, "run", pip)
    monkeypatch.setenv("DLBOOK_LANGUAGE", "")  # the cell sets it: restored after the test
    exec(compile(source.split("\n\n")[0], "setup", "exec"), {})  # without the framework's seeding
    assert len(commands) == 1 and os.environ["DLBOOK_LANGUAGE"] == "pt"
    return target


def test_the_library_notebook_runs_under_the_colab_setup_code(settings, tmp_path, monkeypatch):
    """The committed use-gpu notebook's import, on a kernel whose only copy of the library is the
    one the Colab setup cell installed: pip builds lib/, and the saved helpers work."""
    target = installed_by_the_setup_cell(settings, "pytorch", tmp_path, monkeypatch)
    monkeypatch.undo()
    assert (target / "dlbook" / "torch.py").read_bytes() == (settings.library_dir / "dlbook/torch.py").read_bytes()
    notebook = nbformat.read(REPO / "notebooks/pt/pytorch/deep-learning-computation/use-gpu.ipynb", as_version=4)
    imports = [c.source for c in notebook.cells if c.cell_type == "code" and "from dlbook import" in c.source]
    assert imports and imports[0].startswith("from dlbook import torch as dlb")
    code = "\n".join([imports[0].split("\n")[0], "import torch",
                      "print(dlb.gpu_or_cpu(10**6), dlb.MyLinear(3, 1)(torch.ones(2, 3)).shape)",
                      "import os; os.environ['DLBOOK_LANGUAGE'] = 'pt'; dlb.plot_losses([1.0, 0.5, 0.25])"])
    python = envs.python_of(envs.ensure_env("pytorch", settings.framework("pytorch").requirements))
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={**environment, "PYTHONPATH": str(target)}, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == "cpu torch.Size([2, 1])"
    assert "Perda a cada passo de treinamento" in run.stdout  # the plot's text, in the reader's language


def test_the_kernels_find_the_library_of_this_checkout_first(settings):
    environment = library.kernel_environment(settings, {"PYTHONPATH": "/elsewhere"})
    assert environment["PYTHONPATH"].split(os.pathsep) == [str(settings.library_dir), "/elsewhere"]


def test_make_envs_links_the_library_into_environments_it_built(tmp_path, monkeypatch, settings):
    monkeypatch.setenv("BOOKBUILD_ENVS", str(tmp_path / "envs"))
    requirements = settings.framework("pytorch").requirements
    env = envs.env_dir("pytorch", requirements)
    site = env / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (env / ".complete").write_text("")
    envs.link_library(env / "bin" / "python", requirements, settings.library_dir)
    assert (site / "bookbuild-library.pth").read_text() == f"{settings.library_dir}\n"
    outside = tmp_path / "machine" / "bin" / "python"  # a Python of the machine's own is left alone
    envs.link_library(outside, requirements, settings.library_dir)
    assert not (tmp_path / "machine").exists()


def test_the_committed_library_is_what_the_chapters_save(settings):
    assert library.stale_library(read_book(settings), settings) == []
    modules = json.dumps({f.name: f.module for f in settings.frameworks})
    assert modules == '{"mxnet": "mxnet", "pytorch": "torch", "tensorflow": "tensorflow"}'
    torch = (settings.library_dir / "dlbook" / "torch.py").read_text()
    for name in ("class MyLinear", "def plot_losses", "def gpu_or_cpu", "def all_gpus_or_cpu"):
        assert name in torch
