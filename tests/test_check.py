"""Every malformed chapter fails with `file:line: message`, all of a file's errors at once."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from bookbuild.build import read_book
from bookbuild.check import check_book
from bookbuild.model import BookError
from bookbuild.read import read_chapter

CHAPTERS = FIXTURES / "chapters"


def diagnostics(settings, *names: str, warnings: bool = False) -> list[tuple[str, int, str]]:
    """The errors of the fixture chapters, or with ``warnings`` their translation warnings (less
    the one about the lock file that fixtures have none of)."""
    chapters = [read_chapter(CHAPTERS / name, settings) for name in names]
    return [(d.path.name, d.line, d.message) for d in check_book(chapters, settings)
            if d.warning == warnings and "not recorded in" not in d.message]


def assert_reports(found, expected: list[tuple[int, str]]) -> None:
    """Each expected (line, fragment) is reported, and nothing else is."""
    lines = [(line, message) for _, line, message in found]
    for line, fragment in expected:
        assert any(ln == line and fragment in msg for ln, msg in lines), f"no {line}: {fragment!r} in {lines}"
    assert len(lines) == len(expected), lines


def test_unclosed_and_stray_blocks(settings):
    assert_reports(diagnostics(settings, "unclosed.md"), [
        (3, "framework block not closed before the end of its language block"),
        (11, "stray :end_tab:"),
        (13, "code cell is never closed"),
    ])


def test_unknown_framework_and_language_and_cell_for_no_framework(settings):
    assert_reports(diagnostics(settings, "unknown-names.md"), [
        (3, "unknown framework 'pytoch'"),
        (8, "unknown language 'es'"),
        (13, "unknown framework 'jax'"),
        (12, "code cell belongs to no known framework"),
        (17, "code cell belongs to no known framework"),
        (18, "no framework named"),
    ])
    assert_reports(diagnostics(settings, "unknown-names.md", warnings=True), [
        (1, "'pt' missing: this 'en' passage has no 'pt' block"),
    ])


def test_prose_missing_in_one_language_is_a_warning_at_the_passage(settings):
    assert_reports(diagnostics(settings, "missing-translation.md"), [
        (1, "chapter has no code cell of its own for 'pytorch'"),
        (1, "chapter has no code cell of its own for 'tensorflow'"),
    ])
    assert_reports(diagnostics(settings, "missing-translation.md", warnings=True), [
        (9, "'pt' missing: this 'en' passage has no 'pt' block"),
        (18, "'en' missing: this 'pt' passage has no 'en' block"),
    ])


def test_heading_outside_language_blocks(settings):
    assert_reports(diagnostics(settings, "heading-outside.md"), [
        (1, "heading outside any language block"),
    ])


def test_duplicate_labels_and_dangling_references_across_files(settings):
    found = diagnostics(settings, "labels-a.md", "labels-b.md")
    assert ("labels-b.md", 9, "duplicate label 'sec_first' (first defined at "
            "tests/fixtures/chapters/labels-a.md:11)") in found
    assert_reports(found, [
        (3, "refers to 'sec_missing', which no chapter labels"),
        (3, "refers to 'eq_missing', which no chapter labels"),
        (3, ":eqref: refers to 'sec_first', which labels a section"),
        (8, "refers to 'sec_second', which no chapter labels"),
        (9, "duplicate label 'sec_first'"),
    ])


def test_misplaced_cells_and_blocks_and_unknown_markers(settings):
    assert_reports(diagnostics(settings, "misplaced.md"), [
        (3, "code cell inside the language block opened at line 1"),
        (14, "language block inside the framework block opened at line 13"),
        (16, "stray :end_lang:"),
        (19, "stray :end_lang:"),
        (21, "label 'nothing_here' names a heading in pt but none in en"),
        (25, "unknown cell marker #@vary"),
        (1, "chapter has no code cell of its own for 'mxnet'"),
        (1, "chapter has no code cell of its own for 'tensorflow'"),
    ])


def test_the_command_line_prints_file_line_message_and_fails(tmp_path, settings, capsys):
    from bookbuild.cli import main

    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "_config.yml").write_text((settings.root / "_config.yml").read_text())
    (book / "glossary.yml").write_text((settings.root / "glossary.yml").read_text())
    (book / "_toc.yml").write_text("format: jb-book\nroot: chapters/bad\n")
    (book / "chapters" / "bad.md").write_text((CHAPTERS / "unknown-names.md").read_text())
    assert main(["--root", str(book), "check"]) == 1
    err = capsys.readouterr().err
    assert "chapters/bad.md:3: unknown framework 'pytoch'" in err
    assert "chapters/bad.md:13: unknown framework 'jax'" in err
    assert err.strip().endswith("errors")


def test_the_book_itself_is_clean(settings):
    try:
        read_book(settings)
    except BookError as error:  # pragma: no cover - the message is the point
        pytest.fail(str(error))


def test_every_chapter_is_in_the_table_of_contents_and_back(tmp_path, settings):
    from bookbuild.settings import load_settings

    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "_config.yml").write_text((settings.root / "_config.yml").read_text())
    (book / "glossary.yml").write_text((settings.root / "glossary.yml").read_text())
    (book / "_toc.yml").write_text("format: jb-book\nroot: chapters/index\nchapters:\n  - file: chapters/gone\n")
    for name in ("index", "forgotten"):
        (book / "chapters" / f"{name}.md").write_text(
            ":begin_lang:`en`\nText.\n:end_lang:\n\n:begin_lang:`pt`\nTexto.\n:end_lang:\n")
    with pytest.raises(BookError) as error:
        read_book(load_settings(book))
    assert [str(d) for d in error.value.diagnostics] == [
        "_toc.yml:1: 'chapters/gone' names no chapter file",
        "chapters/forgotten.md:1: chapter is not listed in _toc.yml",
    ]
