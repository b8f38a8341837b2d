"""The generated full-size book (scripts/synthetic_book.py, FULL_SIZE): it has every feature a real
d2lbook book brings, it checks with warnings only, and it previews (no kernel) into both HTML
editions with zero Sphinx warnings. `make bench` times the same book at 160 sections."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from conftest import REPO

from bookbuild import status
from bookbuild.check import read_book
from bookbuild.cli import main
from bookbuild.model import Prose, Rst
from bookbuild.settings import load_settings

sys.path.insert(0, str(REPO / "scripts"))
from synthetic_book import FULL_SIZE, write_book  # noqa: E402

SMALL = replace(FULL_SIZE, sections=8, sections_per_chapter=2)  # chapter 4 of 4 is the plain one


def test_the_full_size_shape_has_every_feature(tmp_path):
    write_book(tmp_path, SMALL)
    settings = load_settings(tmp_path)
    warnings: list = []
    chapters = read_book(settings, warnings=warnings)  # no error
    plain = [c.name for c in chapters if c.plain]
    assert plain == ["chapter-004/index", "chapter-004/section-007", "chapter-004/section-008"]
    gaps = {c.name: c.framework_gaps(settings.framework_names) for c in chapters}
    assert gaps["chapter-002/section-003"] == ["tensorflow"] and gaps["chapter-001/section-001"] == []
    assert all(c.citations for c in chapters if "section" in c.name)
    assert all((tmp_path / "chapters" / c.name).parent.joinpath("img", c.name[-11:] + ".svg").is_file()
               for c in chapters if "section" in c.name)
    assert any(isinstance(part, Rst) for c in chapters if c.plain for b in c.blocks if isinstance(b, Prose)
               for part in b.parts)
    assert {t.kind for c in chapters for t in c.targets} == {"section", "figure", "equation"}
    rows = status.book_coverage(chapters, settings)
    assert sum(row.blocks["missing"] for row in rows if row.language == "pt") >= 3
    assert any("no code for 'tensorflow'" in w.message for w in warnings)


def test_it_previews_into_both_editions_with_zero_sphinx_warnings(tmp_path, capsys):
    """`make preview BOOK=…`: no kernel, and the HTML built with warnings as errors."""
    write_book(tmp_path, SMALL)
    assert main(["--root", str(tmp_path), "notebooks", "--no-execute"]) == 0
    assert "0 kernels started" in capsys.readouterr().out
    assert main(["--root", str(tmp_path), "html", "--preview"]) == 0
    html = tmp_path / "_build" / "html"
    for lang in ("en", "pt"):
        page = (html / lang / "chapters/chapter-004/section-008.html").read_text()
        assert "bibliography.html#cite-" in page and "<table" in page and 'id="equation-eq-synthetic-8"' in page
    assert (html / "_images").is_dir() and len(list((html / "_images").glob("*.svg"))) == SMALL.sections
    assert not list(html.glob("*/_images/*.svg"))  # the figures are published once, for both editions
    assert Path(html / "pt/chapters/chapter-002/section-003.html").read_text().count(
        "Esta seção ainda não tem código TensorFlow.") >= 2
