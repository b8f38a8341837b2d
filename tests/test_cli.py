"""The command line: `convert` on single files, errors as `file:line: message` with a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

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
    # No TensorFlow notebook: the file never names TensorFlow, and d2lbook writes none either.
    assert written == ["pt/mxnet/plain.ipynb", "pt/pytorch/plain.ipynb"]
    assert code_of(out / "pt/mxnet/plain.ipynb")[1:] == ["a = 1"]  # after the setup cell
    assert code_of(out / "pt/pytorch/plain.ipynb")[1:] == ["b = 2"]
    assert "2 notebooks written, 0 kernels started" in capsys.readouterr().out


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
