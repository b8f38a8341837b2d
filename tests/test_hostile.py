"""Hostile input: every way an author's files (or command line) can be wrong gets one clean answer.

Each case breaks a small book whose notebooks/ and a previous ``convert --out`` folder hold
executed notebooks, runs the commands an author would run on it, and asserts three things:

- the exit status;
- the exact ``path:LINE`` of every problem reported (and a fragment of its message), so that a
  problem blamed on the wrong line, or a cascade of follow-on errors, fails the case;
- that notebooks/ and the previous --out folder are byte-identical afterwards (sha256).

No case may print a traceback. Cases whose input is fine (a byte-order mark, CRLF line ends) expect
success, so that the suite also catches a reader that refuses what editors write.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bookbuild import envs, translation
from bookbuild.build import build_notebooks, convert_file, read_book
from bookbuild.cli import main
from bookbuild.settings import load_settings

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
SECTION = "chapters/part/section.md"
OTHER = "chapters/part/other.md"
PREVIOUS = "previous"  # a folder an earlier `convert --out previous` filled with executed notebooks

CONFIG = """\
title: A hostile book
repository:
  url: https://github.com/someone/book
  branch: main
bookbuild:
  languages:
    en:
      sphinx_language: en
      title: A book
    pt:
      sphinx_language: pt_BR
      title: Um livro
  default_tab: pytorch
  frameworks:
    mxnet:
      display_name: MXNet
      requirements: envs/mxnet.txt
      gpu_requirements: envs/mxnet-gpu.txt
      setup: FRAMEWORK = 'mxnet'
    pytorch:
      display_name: PyTorch
      requirements: envs/pytorch.txt
      gpu_requirements: envs/pytorch-gpu.txt
      setup: FRAMEWORK = 'pytorch'
    tensorflow:
      display_name: TensorFlow
      requirements: envs/tensorflow.txt
      gpu_requirements: envs/tensorflow-gpu.txt
      setup: FRAMEWORK = 'tensorflow'
"""

TOC = """\
format: jb-book
root: chapters/part/section
chapters:
  - file: chapters/part/other
"""

BASE = """\
:begin_lang:`en`
# Section
Prose with $x$.
:end_lang:

:begin_lang:`pt`
# Seção
Texto com $x$.
:end_lang:

:label:`sec_section`

```{.python .input}
#@tab mxnet
print("mxnet", FRAMEWORK)
```

```{.python .input}
#@tab pytorch
print("pytorch", FRAMEWORK)
```

```{.python .input}
#@tab tensorflow
print("tensorflow", FRAMEWORK)
```
"""

# A figure in each language, for the cases that break one (its image is chapters/img/x.svg).
FIGURES = """\
:label:`sec_section`

:begin_lang:`en`
![A box.](../img/x.svg)
:alt:`A box.`
:end_lang:

:begin_lang:`pt`
![Uma caixa.](../img/x.svg)
:alt:`Uma caixa.`
:end_lang:

:label:`fig_box`
"""

OTHER_TEXT = """\
:begin_lang:`en`
# Other
See :numref:`sec_section`.
:end_lang:

:begin_lang:`pt`
# Outra
Veja :numref:`sec_section`.
:end_lang:
"""


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book, built once: notebooks/ and previous/ hold executed notebooks (the toolchain's own
    `python3` kernel stands in for every framework)."""
    root = tmp_path_factory.mktemp("hostile") / "book"
    files = {"_config.yml": CONFIG, "_toc.yml": TOC, SECTION: BASE, OTHER: OTHER_TEXT}
    for name in ("mxnet", "pytorch", "tensorflow"):
        files[f"envs/{name}.txt"] = f"# python: {PYTHON}\n{name}==1.0\n"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(envs, "ensure_kernel", lambda framework, log=print, device="cpu": "python3")
        settings = load_settings(root)
        for chapter in read_book(settings):  # translations recorded, so that only what a case breaks is reported
            translation.confirm(chapter, settings)
        assert not build_notebooks(read_book(settings), settings, settings.notebooks_dir, log=lambda _: None).failures
        report = convert_file(root / SECTION, settings, root / PREVIOUS, lang=None, execute_code=True,
                              log=lambda _: None)
        assert not report.failures and len(report.written) == 6
    return root


def fingerprints(root: Path) -> dict[str, str]:
    """sha256 of every file below notebooks/ and previous/."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in ("notebooks", PREVIOUS) for p in sorted((root / folder).rglob("*")) if p.is_file()}


Edit = Callable[[Path], None]


@dataclass
class Case:
    """A broken book (``edit`` changes the template), the commands to run on it, and the answer."""

    id: str
    edit: Edit
    problems: list[tuple[str, str | int | tuple[str, int] | None, str]]  # (path, where, message fragment)
    commands: tuple[str, ...] = ("check", "notebooks", "convert")
    status: int = 1
    argv: list[str] = field(default_factory=list)  # for commands == ("argv",)


def write(path: str, content: str | bytes, *, append: bool = False) -> Edit:
    def edit(root: Path) -> None:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        target.write_bytes((target.read_bytes() if append else b"") + data)
    return edit


def replace(path: str, old: str, new: str) -> Edit:
    def edit(root: Path) -> None:
        text = (root / path).read_text()
        assert old in text, f"{old!r} not in {path}"
        (root / path).write_text(text.replace(old, new, 1))
    return edit


def config(after: str, added: str) -> Edit:
    """_config.yml with ``added`` lines after the line ``after``."""
    return replace("_config.yml", after, after + added)


def section(text: str) -> Edit:
    return write(SECTION, text)


def both(*edits: Edit) -> Edit:
    def edit(root: Path) -> None:
        for one in edits:
            one(root)
    return edit


def line_of(root: Path, path: str, where) -> int | None:
    """The line a problem must be blamed on: a number, the first line holding a text, or the
    n-th such line ((text, n)); None for a problem with the whole file."""
    if where is None or isinstance(where, int):
        return where
    needle, occurrence = where if isinstance(where, tuple) else (where, 1)
    lines = (root / path).read_bytes().split(b"\n")
    found = [n for n, line in enumerate(lines, start=1) if needle.encode() in line]
    assert len(found) >= occurrence, f"{needle!r} occurs {len(found)} times in {path}"
    return found[occurrence - 1]


B = BASE.count("\n")  # the lines of BASE: what a case appends starts at line B + 1
BOOK = ("check", "notebooks")  # the commands that read the whole book
MORE = "\n:begin_lang:`en`\nMore.\n:end_lang:\n\n:begin_lang:`pt`\nMais.\n:end_lang:\n"

CASES = [
    # -- what editors write is accepted ----------------------------------------------------------
    Case("utf8-bom", section("\ufeff" + BASE), [], status=0),
    Case("bom-and-crlf", write(SECTION, ("\ufeff" + BASE).replace("\n", "\r\n").encode()), [], status=0),
    Case("cr-line-ends", write(SECTION, BASE.replace("\n", "\r").encode()), [], status=0),
    # -- bytes that are not text -----------------------------------------------------------------
    Case("latin-1", write(SECTION, BASE.replace("Texto com", "Tradução com").encode("latin-1")),
         [(SECTION, 7, "byte 0xe7 is not UTF-8")]),  # "Seção", the first line with a latin-1 byte
    Case("binary-file", write(SECTION, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), [(SECTION, 3, "NUL byte")]),
    Case("nul-in-paragraph", section(BASE.replace("Prose with", "Prose\x00 with")), [(SECTION, "Prose", "NUL byte")]),
    Case("utf-16", write(SECTION, BASE.encode("utf-16")), [(SECTION, 1, "NUL byte")]),
    Case("truncated-utf8", write(SECTION, BASE.encode().replace("Seção".encode(), "Se\xc3".encode("latin-1"))),
         [(SECTION, 7, "byte 0xc3 is not UTF-8")]),
    # -- markers -----------------------------------------------------------------------------------
    Case("text-after-marker", section(BASE.replace(":begin_lang:`en`\n# Section", ":begin_lang:`en` # Section")),
         [(SECTION, "# Section", "text after the marker")]),
    Case("stray-end-lang-first", section(":end_lang:\n\n" + BASE), [(SECTION, 1, "stray :end_lang:")]),
    Case("mangled-end-tab", section(BASE + "\n:begin_lang:`en`\n:begin_tab:`pytorch`\nOnly PyTorch.\n: end_tab:\n"
                                    ":end_lang:\n\n:begin_lang:`pt`\n:begin_tab:`pytorch`\nSó PyTorch.\n:end_tab:\n"
                                    ":end_lang:\n"),
         [(SECTION, ": end_tab:", "did you mean :end_tab:?")]),
    Case("space-before-backtick", section(BASE.replace(":begin_lang:`pt`", ":begin_lang: `pt`")),
         [(SECTION, ":begin_lang: `pt`", "did you mean :begin_lang:`pt`?")]),
    Case("dash-in-marker", section(BASE.replace(":end_lang:\n\n:begin_lang:`pt`", ":end-lang:\n\n:begin_lang:`pt`")),
         [(SECTION, ":end-lang:", "did you mean :end_lang:?")]),
    Case("misspelt-label", section(BASE.replace(":label:`sec_section`", ":lable:`sec_section`")),
         [(SECTION, ":lable:", "did you mean :label:`sec_section`?")]),
    Case("marker-without-argument", section(BASE.replace(":begin_lang:`pt`", ":begin_lang:")),
         [(SECTION, (":begin_lang:", 2), ":begin_lang: needs a language code")]),
    Case("argument-on-end-marker", section(BASE.replace(":end_lang:\n", ":end_lang:`en`\n", 1)),
         [(SECTION, ":end_lang:`en`", "takes no argument")]),
    Case("unknown-language", section(BASE.replace(":begin_lang:`pt`", ":begin_lang:`es`")),
         [(SECTION, ":begin_lang:`es`", "unknown language 'es'")]),
    Case("unknown-framework-block", section(BASE.replace("Prose with $x$.", ":begin_tab:`jax`\nJax.\n:end_tab:")),
         [(SECTION, ":begin_tab:`jax`", "unknown framework 'jax'")]),
    Case("language-inside-language", section(BASE.replace("Prose with $x$.", ":begin_lang:`pt`")),
         [(SECTION, (":begin_lang:`pt`", 1), "opened inside the one opened at line 1")]),
    Case("language-never-closed", section(BASE + "\n:begin_lang:`en`\nUnfinished.\n"),
         [(SECTION, ("begin_lang:`en`", 2), "language block is never closed"),
          ]),
    Case("framework-never-closed", section(BASE.replace("Prose with $x$.", ":begin_tab:`pytorch`\nTorch.")),
         [(SECTION, ":begin_tab:", "framework block not closed before the end of its language block")]),
    Case("marker-inside-text", section(BASE.replace("Prose with $x$.", "Prose with $x$. :end_lang:")),
         [(SECTION, "Prose with", "marker :end_lang: inside a line of text")]),
    Case("marker-inside-list", section(BASE.replace("Prose with $x$.", "- an item\n\n  :label:`sec_item`")),
         [(SECTION, "sec_item", "inside a list or a quote")]),
    Case("marker-inside-html", section(BASE.replace("Prose with $x$.\n:end_lang:", "<div>\n:end_lang:")),
         [(SECTION, (":end_lang:", 1), "inside an HTML block")]),
    Case("mangled-reference", section(BASE.replace("Texto com $x$.", "Veja a : numref:`sec_section`.")),
         [(SECTION, "numref", "did you mean :numref:`sec_section`?")]),
    # -- fences and code cells ---------------------------------------------------------------------
    Case("code-cell-fence-deleted", section(BASE.replace('"mxnet", FRAMEWORK)\n```', '"mxnet", FRAMEWORK)')),
         [(SECTION, ("```{.python .input}", 2), "code cell opened inside the code cell opened at line 13")]),
    Case("unclosed-bash-fence", section(BASE + "\n:begin_lang:`en`\n```bash\nls\n:end_lang:\n"),
         [(SECTION, "```bash", "fenced block ```bash is never closed"),
          (SECTION, ("begin_lang:`en`", 2), "language block is never closed"),
          ]),
    Case("unclosed-code-cell", section(BASE + "\n```{.python .input}\n#@tab all\nx = 1\n"),
         [(SECTION, ("```{.python .input}", 4), "code cell is never closed")]),
    Case("fence-shown-inside-fence", section(BASE + "\n:begin_lang:`en`\n```markdown\n```python\nx = 1\n```\n```\n"
                                             ":end_lang:\n\n:begin_lang:`pt`\nExemplo.\n:end_lang:\n"),
         [(SECTION, "```python", "fenced block opened inside the fenced block ```markdown"),
          (SECTION, B + 7, "fenced block ``` is never closed"),
          (SECTION, ("begin_lang:`en`", 2), "language block is never closed"),
          ]),
    Case("code-cell-in-list",
         section(BASE + "\n1. Run this:\n\n   ```{.python .input}\n   #@tab all\n   x = 1\n   ```\n"),
         [(SECTION, ("```{.python .input}", 4), "code cell inside a list")]),
    Case("code-cell-in-language-block",
         section(BASE.replace("Prose with $x$.", "```{.python .input}\n#@tab all\nx = 1\n```")),
         [(SECTION, 3, "code cell inside the language block opened at line 1")]),
    Case("unknown-cell-marker", section(BASE.replace("#@tab mxnet\n", "#@tab mxnet\n#@vary\n")),
         [(SECTION, "#@vary", "unknown cell marker #@vary")]),
    Case("timeout-not-a-number", section(BASE.replace("#@tab mxnet\n", "#@tab mxnet\n#@timeout soon\n")),
         [(SECTION, ("```{.python .input}", 1), "#@timeout needs a whole number of seconds")]),
    Case("tab-names-nothing", section(BASE + "\n```{.python .input}\n#@tab\nx = 1\n```\n"),
         [(SECTION, ("```{.python .input}", 4), "code cell belongs to no known framework"),
          (SECTION, ("#@tab", 4), "no framework named")]),
    Case("all-with-names", section(BASE.replace("#@tab tensorflow", "#@tab all, tensorflow")),
         [(SECTION, "#@tab all", "`all` stands alone")]),
    # -- math, labels and references ---------------------------------------------------------------
    Case("unclosed-display-math", section(BASE + "\n$$\ny = x\n\n" + MORE),
         [(SECTION, "$$", "display equation is never closed")]),
    # d2lbook reads a $$ line right after text as a display equation, and so does the reader.
    Case("equation-label-after-text", section(BASE + "\nText right before\n$$y = x$$\n:eqlabel:`eq_y`\n"),
         [], status=0, commands=("check",)),
    Case("label-on-a-line-of-text", section(BASE + "\nA sentence :label:`sec_nothing`\n"),
         [(SECTION, "A sentence", "marker :label: inside a line of text")]),
    Case("dollars-in-inline-code", section(BASE + "\n$$y = x$$\n:eqlabel:`eq_y`\n\n:begin_lang:`en`\nIn `$$` mode "
                                           "see :eqref:`eq_y`.\n:end_lang:\n\n:begin_lang:`pt`\nVeja :eqref:`eq_y`.\n"
                                           ":end_lang:\n"), [], status=0, commands=("check",)),
    Case("label-after-nothing", section(":label:`sec_top`\n\n" + BASE),
         [(SECTION, 1, "label 'sec_top' names nothing")]),
    Case("table-label-without-caption", section(BASE + "\n| a | b |\n| - | - |\n| 1 | 2 |\n:label:`tab_ab`\n"),
         [(SECTION, ":label:`tab_ab`", "names a table without a caption")]),
    Case("width-after-no-figure", section(BASE + "\n:width:`300px`\n"), [(SECTION, ":width:", "follows no figure")]),
    Case("duplicate-label", write(OTHER, OTHER_TEXT + "\n:label:`sec_section`\n", append=False),
         # Blamed on the copy that comes later in _toc.yml (other.md), not in alphabetical order.
         [(OTHER, ":label:`sec_section`", "duplicate label 'sec_section' (first defined at "
                                          "chapters/part/section.md:11)")],
         commands=BOOK),
    Case("reference-to-nothing", replace(OTHER, "See :numref:`sec_section`", "See :numref:`sec_gone`"),
         [(OTHER, "sec_gone", "which no chapter labels")], commands=BOOK),
    Case("eqref-to-a-section", replace(OTHER, "See :numref:`sec_section`", "See :eqref:`sec_section`"),
         [(OTHER, ":eqref:", "which labels a section")], commands=BOOK),
    # A missing translation is a warning, and an error in a strict check: blamed on the extra block itself.
    Case("extra-english-block", section(BASE.replace(":label:`sec_section`", ":begin_lang:`en`\nExtra.\n:end_lang:\n"
                                                     + MORE + "\n:label:`sec_section`")),
         [(SECTION, ("begin_lang:`en`", 2), "'pt' missing: this 'en' passage has no 'pt' block"),
          (SECTION, ("begin_lang:`pt`", 2), "translation not recorded in section.lock.yml")],  # the new "Mais."
         commands=("argv",), argv=["check", "--strict"]),
    Case("heading-outside-languages", section(BASE.replace(":label:`sec_section`", "## Shared\n:label:`sec_section`")),
         [(SECTION, "## Shared", "heading outside any language block")]),
    # -- _config.yml -------------------------------------------------------------------------------
    Case("config-yaml-syntax", replace("_config.yml", "  branch: main", "  branch: [main"),
         [("_config.yml", "bookbuild:", "YAML syntax: expected ',' or ']', but got ':'")]),
    Case("config-empty", write("_config.yml", ""), [("_config.yml", 1, "must be a YAML mapping")]),
    Case("config-a-list", write("_config.yml", "- title\n- book\n"), [("_config.yml", 1, "must be a YAML mapping")]),
    Case("config-missing-display-name", replace("_config.yml", "      display_name: PyTorch\n", ""),
         [("_config.yml", "    pytorch:", "bookbuild.frameworks.pytorch: missing key 'display_name'")]),
    Case("config-wrong-type", config("      display_name: MXNet\n", "      colab: sometimes\n"),
         [("_config.yml", "colab:", "bookbuild.frameworks.mxnet.colab: 'sometimes' is not of type 'boolean'")]),
    Case("config-unknown-key", config("  default_tab: pytorch\n", "  timeout_s: 60\n"),
         [("_config.yml", "timeout_s", "unknown key 'timeout_s'")]),
    Case("config-repeated-key", config("  default_tab: pytorch\n", "  default_tab: mxnet\n"),
         [("_config.yml", ("default_tab", 2), "repeats the one at line")]),
    Case("config-default-tab", replace("_config.yml", "default_tab: pytorch", "default_tab: jax"),
         [("_config.yml", "default_tab", "not one of the frameworks")]),
    Case("config-repository-url", replace("_config.yml", "https://github.com/someone/book", "gitlab.com/someone/book"),
         [("_config.yml", "url:", "must be a GitHub repository")]),
    Case("config-timeout-zero", config("  default_tab: pytorch\n", "  timeout: 0\n"),
         [("_config.yml", "timeout", "bookbuild.timeout: 0 is less than the minimum of 1")]),
    Case("config-missing", lambda root: (root / "_config.yml").unlink(), [("_config.yml", None, "not found in")]),
    # -- _toc.yml ----------------------------------------------------------------------------------
    Case("toc-yaml-syntax", write("_toc.yml", TOC.replace("file: chapters/part/other", "file: [chapters/part/other")),
         [("_toc.yml", 5, "YAML syntax")], commands=BOOK),
    Case("toc-empty", write("_toc.yml", ""), [("_toc.yml", 1, "must be a YAML mapping")], commands=BOOK),
    Case("toc-entry-without-file", write("_toc.yml", TOC + "  - title: Lost\n"),
         [("_toc.yml", "title: Lost", "entry does not contain one of")], commands=BOOK),
    Case("toc-names-no-chapter", write("_toc.yml", TOC + "  - file: chapters/part/gone\n"),
         [("_toc.yml", "gone", "'chapters/part/gone' names no chapter file")], commands=BOOK),
    Case("toc-lists-a-file-twice", write("_toc.yml", TOC + "  - file: chapters/part/other\n"),
         [("_toc.yml", ("chapters/part/other", 2), "is listed twice (first at line 4)")], commands=BOOK),
    Case("chapter-not-in-toc", write("_toc.yml", TOC.replace("chapters:\n  - file: chapters/part/other\n", "")),
         [(OTHER, 1, "not listed in _toc.yml")], commands=BOOK),
    # -- files under chapters/ -----------------------------------------------------------------------
    Case("folder-named-md", lambda root: (root / "chapters/part/folder.md").mkdir(),
         [("chapters/part/folder.md", None, "a folder named like a chapter file")], commands=BOOK),
    Case("broken-link", lambda root: (root / "chapters/part/link.md").symlink_to(root / "chapters/part/nowhere.md"),
         [("chapters/part/link.md", None, "broken link")], commands=BOOK),
    # -- convert ---------------------------------------------------------------------------------------
    Case("convert-missing-file", lambda root: None, [("chapters/part/missing.md", None, "no such file")],
         commands=("argv",), argv=["convert", "chapters/part/missing.md", "--out", PREVIOUS]),
    Case("convert-a-folder", lambda root: None, [("chapters/part", None, "is a folder")],
         commands=("argv",), argv=["convert", "chapters/part", "--out", PREVIOUS]),
    Case("convert-out-is-a-file", write("out.txt", "not a folder"), [("out.txt", None, "--out names a file")],
         commands=("argv",), argv=["convert", SECTION, "--out", "out.txt"]),
    Case("convert-into-notebooks", lambda root: None, [("notebooks/en", None, "inside the book's notebooks/")],
         commands=("argv",), argv=["convert", SECTION, "--out", "notebooks/en"]),
    Case("convert-empty-file", write("chapters/part/empty.md", ""), [("chapters/part/empty.md", 1, "empty chapter")],
         commands=("argv",), argv=["convert", "chapters/part/empty.md", "--out", PREVIOUS]),
    Case("convert-would-drop-outputs", section(BASE.replace('print("pytorch", FRAMEWORK)', 'print("changed")')),
         [(f"{PREVIOUS}/{lang}/pytorch/part/section.ipynb", None, "holds executed outputs that this run would drop")
          for lang in ("en", "pt")],
         commands=("argv",), argv=["convert", SECTION, "--out", PREVIOUS, "--no-execute"]),
    Case("convert-unchanged-keeps-outputs", lambda root: None, [], status=0,
         commands=("argv",), argv=["convert", SECTION, "--out", PREVIOUS, "--no-execute"]),
    Case("outside-a-book", lambda root: None, [("_config.yml", None, "not found in")],
         commands=("argv",), argv=["--root", "chapters", "check"]),
    # -- the command line --------------------------------------------------------------------------------
    Case("unknown-command", lambda root: None, [], status=2, commands=("argv",), argv=["chekc"]),
    Case("convert-without-out", lambda root: None, [], status=2, commands=("argv",), argv=["convert", SECTION]),
    Case("convert-unknown-language", lambda root: None, [], status=2, commands=("argv",),
         argv=["convert", SECTION, "--out", "out", "--lang", "es"]),
    Case("nbval-unknown-framework", lambda root: None, [], status=2, commands=("argv",),
         argv=["test-notebooks", "jax"]),
    # -- kernel environment files --------------------------------------------------------------------
    Case("envs-no-python", write("envs/bad.txt", "numpy==1.0\n"), [("envs/bad.txt", None, "says no Python version")],
         commands=("argv",), argv=["env-python", "envs/bad.txt"]),
    Case("envs-bad-requirement", write("envs/bad.txt", f"# python: {PYTHON}\nnumpy==1.0\nnot a ( requirement\n"),
         [("envs/bad.txt", 3, "not a requirement pip understands")], commands=("argv",),
         argv=["env-python", "envs/bad.txt"]),
    Case("envs-include", write("envs/bad.txt", f"# python: {PYTHON}\n-r other.txt\n"),
         [("envs/bad.txt", 2, "is not supported here")], commands=("argv",), argv=["env-python", "envs/bad.txt"]),
    Case("framework-requirements-missing", lambda root: (root / "envs/pytorch.txt").unlink(),
         [("envs/pytorch.txt", None, "no such file")], commands=("notebooks",)),
    # -- what a full-size d2lbook book brings: citations, reStructuredText, images, framework gaps ----------
    Case("bibtex-syntax-error", both(config("  branch: main\n", "bibtex_bibfiles: refs.bib\n"),
                                     write("refs.bib", "@book{a,\n  title = {A},\n  year = {2020}\n\n@book{b,\n")),
         [("refs.bib", 5, "BibTeX syntax error: '}' expected")], commands=BOOK),
    Case("bibtex-repeated-key", both(config("  branch: main\n", "bibtex_bibfiles: [refs.bib]\n"),
                                     write("refs.bib", "@misc{a, title={A}}\n\n@misc{a, title={B}}\n")),
         [("refs.bib", 3, "entry 'a' is defined twice (first at line 1)")], commands=BOOK),
    Case("bibtex-file-missing", config("  branch: main\n", "bibtex_bibfiles: [gone.bib]\n"),
         [("gone.bib", None, "no such file")], commands=BOOK),
    Case("bibtex-files-not-names", config("  branch: main\n", "bibtex_bibfiles: 3\n"),
         [("_config.yml", "bibtex_bibfiles", "bibtex_bibfiles: 3 is not valid")]),
    Case("unknown-citation-key", both(
        config("  branch: main\n", "bibtex_bibfiles: refs.bib\n"),
        write("refs.bib", "@misc{Known.2020, author={Known, A.}, title={A}, year={2020}}\n"),
        section(BASE.replace("Prose with $x$.", "Prose :cite:`Known.2020,Unknown.2021`."))),
         [(SECTION, "Prose :cite:", "unknown citation key 'Unknown.2021'")], commands=BOOK),
    Case("citation-without-bibliography", section(BASE.replace("Prose with $x$.", "Prose :cite:`Some.2020`.")),
         [(SECTION, "Prose :cite:", "citation, but the book has no bibliography")], commands=BOOK),
    Case("eval-rst-broken", section(BASE + "\n```eval_rst\n.. list-table:: T\n\n   * - a\n  * - b\n```\n"),
         [(SECTION, ".. list-table:: T", "eval_rst: Error parsing content block for the \"list-table\" directive")],
         commands=BOOK),
    Case("framework-gap-where-every-framework", both(
        config("  default_tab: pytorch\n", "  every_framework: true\n"),
        section(BASE.replace("```{.python .input}\n#@tab tensorflow\nprint(\"tensorflow\", FRAMEWORK)\n```\n", ""))),
         [(SECTION, 1, "no code for 'tensorflow'")], commands=BOOK),
    # -- figures and the book's library --------------------------------------------------------------
    Case("figure-image-missing", replace(SECTION, ":label:`sec_section`\n", FIGURES.replace("x.svg", "gone.svg")),
         [(SECTION, "![A box.]", "image '../img/gone.svg' not found"),
          (SECTION, "![Uma caixa.]", "image '../img/gone.svg' not found")]),
    Case("figure-alt-on-nothing", replace(SECTION, "Prose with $x$.\n", "Prose with $x$.\n:alt:`A box.`\n"),
         [(SECTION, ":alt:", ":alt: follows no figure")]),
    Case("figure-without-alt", both(write("chapters/img/x.svg", "<svg/>"), replace(
        SECTION, ":label:`sec_section`\n", FIGURES.replace(":alt:`A box.`\n", ""))),
         [(SECTION, "![A box.]", "figure without an alternative text")], commands=BOOK),
    Case("save-leaves-code-out", replace(SECTION, '#@tab pytorch\nprint("pytorch", FRAMEWORK)',
                                         '#@tab pytorch\n#@save\ndef f():\n    return 1\nprint("pytorch", f())'),
         [(SECTION, ("```{.python .input}", 2), "left out of the library")], commands=BOOK),
    Case("save-not-python", replace(SECTION, 'print("mxnet", FRAMEWORK)', 'def f(:  #@save\n    pass'),
         [(SECTION, ("```{.python .input}", 1), "not valid Python on its own")], commands=BOOK),
    Case("library-module-of-another-framework", replace(SECTION, 'print("tensorflow", FRAMEWORK)',
                                                        "from dlbook import torch as dlb"),
         [(SECTION, ("```{.python .input}", 3), "imports dlbook.torch, but tensorflow's module")], commands=BOOK),
    Case("library-module-clash", config("      display_name: MXNet\n", "      module: pytorch\n"),
         [("_config.yml", "module: pytorch", "is the library module of another framework too")]),
]

DIAGNOSTIC = re.compile(r"^(?P<path>[^:\s][^:]*?)(?::(?P<line>\d+))?(?::\d+)?: (?P<message>.+)$")


def run(argv: list[str], root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        status = main(argv)
    finally:
        os.chdir(cwd)
    out, err = capsys.readouterr()
    return status, out, err


def commands_of(case: Case) -> list[list[str]]:
    argvs = {"check": ["check"], "notebooks": ["notebooks"],
             "convert": ["convert", SECTION, "--out", PREVIOUS, "--no-execute"], "argv": case.argv}
    return [argvs[name] for name in case.commands]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_hostile_input(case: Case, template: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    root = tmp_path / "book"
    shutil.copytree(template, root, symlinks=True)
    case.edit(root)
    before = fingerprints(root)
    expected = sorted((path, line_of(root, path, where) or 0, fragment) for path, where, fragment in case.problems)
    monkeypatch.setattr(envs, "ensure_kernel", lambda framework, log=print, device="cpu": "python3")
    for argv in commands_of(case):
        status, out, err = run(argv, root, capsys)
        assert "Traceback" not in out + err, f"{argv}: a traceback\n{err}"
        assert status == case.status, f"{argv}: exit status {status}, not {case.status}\n{err}"
        # Translation gaps are warnings (tests/test_translation.py): this suite is about errors.
        reported = [line for line in err.splitlines() if not re.fullmatch(r"\d+ errors?", line)
                    and ": warning: " not in line and not re.match(r"\d+ warnings? \(", line)]
        if case.status == 2:  # argparse: one line that names the program
            assert len(reported) == 1 and reported[0].startswith("bookbuild"), err
        else:
            found = []
            for line in reported:
                match = DIAGNOSTIC.match(line)
                assert match, f"{argv}: not a `path:LINE: message` line: {line!r}"
                found.append((match["path"], int(match["line"] or 0), match["message"]))
            wanted = expected if argv[0] != "convert" else [e for e in expected if e[0] != OTHER]
            assert sorted((p, n) for p, n, _ in found) == [(p, n) for p, n, _ in wanted], f"{argv}:\n{err}"
            for path, line, fragment in wanted:
                messages = [m for p, n, m in found if (p, n) == (path, line)]
                assert any(fragment in m for m in messages), f"{argv}: {fragment!r} not in {messages!r}"
        assert fingerprints(root) == before, f"{argv} changed notebooks/ or {PREVIOUS}/"


def test_there_are_enough_hostile_cases() -> None:
    assert len(CASES) >= 50
    assert len({case.id for case in CASES}) == len(CASES)
