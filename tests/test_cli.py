"""The command line: `convert` on single files, errors as `file:line: message` with a non-zero exit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO

from bookbuild.cli import main

PLAIN = """\
# Uma seção em português

Texto com $x$.

```{.python .input}
a = 1
```

```{.python .input}
#@tab pytorch
b = 2
```
"""


def code_of(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def test_convert_a_plain_d2lbook_file_without_executing(tmp_path, capsys):
    source = tmp_path / "plain.md"
    source.write_text(PLAIN)
    out = tmp_path / "out"
    assert main(["--root", str(REPO), "convert", str(source), "--out", str(out), "--lang", "pt", "--no-execute"]) == 0
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.ipynb"))
    assert written == ["pt/mxnet/plain.ipynb", "pt/pytorch/plain.ipynb", "pt/tensorflow/plain.ipynb"]
    assert code_of(out / "pt/mxnet/plain.ipynb")[1:] == ["a = 1"]  # after the setup cell
    assert code_of(out / "pt/pytorch/plain.ipynb")[1:] == ["b = 2"]
    # The file never names TensorFlow (d2lbook writes no notebook for it): ours has no code, and says so.
    assert code_of(out / "pt/tensorflow/plain.ipynb") == []
    note = json.loads((out / "pt/tensorflow/plain.ipynb").read_text())["cells"][0]["source"]
    assert "".join(note).startswith("> **Esta seção ainda não tem código TensorFlow.**")
    assert "3 notebooks written, 0 kernels started" in capsys.readouterr().out


def test_convert_a_bilingual_chapter_writes_both_languages(tmp_path):
    source = REPO / "chapters" / "deep-learning-computation" / "custom-layer.md"
    out = tmp_path / "out"
    assert main(["--root", str(REPO), "convert", str(source), "--out", str(out), "--no-execute"]) == 0
    assert len(list(out.rglob("*.ipynb"))) == 6


def test_convert_a_broken_file_reports_every_error_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    source = FIXTURES / "chapters" / "unclosed.md"
    assert main(["--root", str(REPO), "convert", str(source), "--out", str(out), "--no-execute"]) == 1
    err = capsys.readouterr().err
    assert "tests/fixtures/chapters/unclosed.md:3: framework block not closed" in err
    assert "tests/fixtures/chapters/unclosed.md:13: code cell is never closed" in err
    assert not out.exists()


def test_convert_rejects_an_unknown_language(tmp_path, capsys):
    source = tmp_path / "plain.md"
    source.write_text(PLAIN)
    assert main(["--root", str(REPO), "convert", str(source), "--out", str(tmp_path), "--lang", "es"]) == 2
    assert "unknown language 'es'" in capsys.readouterr().err


def problems(err: str) -> str:
    """stderr without `check`'s warnings (the book's repository is still the placeholder)."""
    return "".join(line for line in err.splitlines(keepends=True) if ": warning: " not in line)


def test_an_internal_error_is_one_line_asking_for_a_report(monkeypatch, capsys):
    from bookbuild import check

    def broken(settings, **options):
        raise ValueError("a bug\nover two lines")

    monkeypatch.setattr(check, "read_book", broken)
    assert main(["--root", str(REPO), "check"]) == 70
    err = problems(capsys.readouterr().err)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("bookbuild: internal error (ValueError: a bug over two lines). This is a bug in bookbuild")
    with pytest.raises(ValueError, match="a bug"):
        main(["--root", str(REPO), "--debug", "check"])


def test_a_refusal_of_the_file_system_is_one_line(monkeypatch, capsys, tmp_path):
    from bookbuild import check

    def refused(settings, **options):
        raise PermissionError(13, "Permission denied", str(tmp_path / "chapters"))

    monkeypatch.setattr(check, "read_book", refused)
    assert main(["--root", str(REPO), "check"]) == 1
    assert problems(capsys.readouterr().err) == f"{tmp_path / 'chapters'}: Permission denied\n"


def test_an_interrupt_is_one_line(monkeypatch, capsys):
    from bookbuild import check

    def interrupted(settings, **options):
        raise KeyboardInterrupt

    monkeypatch.setattr(check, "read_book", interrupted)
    assert main(["--root", str(REPO), "check"]) == 130
    assert problems(capsys.readouterr().err) == "bookbuild: interrupted\n"


def test_force_converts_into_the_books_notebooks(tmp_path, capsys):
    book = tmp_path / "book"
    shutil.copytree(REPO / "chapters", book / "chapters")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(REPO / name, book / name)
    shutil.copytree(REPO / "envs", book / "envs")
    chapter = "chapters/deep-learning-computation/custom-layer.md"
    argv = ["--root", str(book), "convert", str(book / chapter), "--out", str(book / "notebooks"), "--no-execute"]
    assert main(argv) == 1
    assert "--out is inside the book's notebooks/" in capsys.readouterr().err
    assert not (book / "notebooks").exists()
    assert main([*argv, "--force"]) == 0
    assert len(list((book / "notebooks").rglob("*.ipynb"))) == 6


def test_the_command_line_as_installed_exits_with_the_status(tmp_path):
    """The console script, not just main(): its exit status and its one-line usage error."""
    bookbuild = Path(sys.executable).parent / "bookbuild"
    result = subprocess.run([str(bookbuild), "convert"], capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("bookbuild convert: the following arguments are required: file, --out")
    result = subprocess.run([str(bookbuild), "--root", str(tmp_path), "check"], capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr.startswith(f"_config.yml: not found in {tmp_path}")
