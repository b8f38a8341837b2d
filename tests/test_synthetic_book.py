"""The generated book behind `make bench`: a valid book of the size asked, with no two sections alike."""

from __future__ import annotations

import sys

from conftest import REPO

from bookbuild import library, schedule
from bookbuild.build import execution_key, read_book
from bookbuild.cli import main
from bookbuild.settings import load_settings

sys.path.insert(0, str(REPO / "scripts"))
from synthetic_book import Shape, long_chapter, write_book  # noqa: E402


def test_the_generated_book_checks_clean_and_every_section_runs_different_code(tmp_path):
    names = write_book(tmp_path, Shape(sections=23, sections_per_chapter=10))
    assert len([n for n in names if "/section-" in n]) == 23 and "chapter-003/section-023" in names
    settings = load_settings(tmp_path)
    chapters = read_book(settings)  # raises on any problem: labels, references, languages, toc
    pairs = [p for p in schedule.book_pairs(chapters, settings) if p.cells]
    assert len(pairs) == 23 * 3 and {p.cells for p in pairs} == {3}
    library_keys = library.fingerprints(chapters, settings)
    keys = {execution_key(p.chapter, p.framework, settings, library_keys) for p in pairs}
    assert len(keys) == len(pairs)
    assert (tmp_path / "chapters" / "chapter-002" / "section-015.lock.yml").exists()  # translations confirmed
    text = (tmp_path / "chapters" / "chapter-002" / "section-015.md").read_text()
    assert "Como na :numref:`sec_synthetic_14`, construímos um tensor" in text


def test_the_long_chapter_of_the_reader_benchmark_checks_clean(tmp_path, capsys):
    """`bench.py --reader` times `check` on the book plus this chapter: a chapter that check
    refused would time an error message instead."""
    write_book(tmp_path, Shape(sections=2, sections_per_chapter=2))
    (tmp_path / "chapters" / "generated.md").write_text(long_chapter(paragraphs=200, cells=120))
    with (tmp_path / "_toc.yml").open("a") as toc:
        toc.write("  - file: chapters/generated\n")
    assert main(["--root", str(tmp_path), "confirm", str(tmp_path / "chapters" / "generated.md")]) == 0
    capsys.readouterr()
    assert main(["--root", str(tmp_path), "check"]) == 0, capsys.readouterr().err
    assert "checked 5 chapters" in capsys.readouterr().out
