"""Every malformed chapter fails with `file:line: message`, all of a file's errors at once."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from bookbuild.build import read_book
from bookbuild.check import check_book, forward_references
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
    # The book asks for every framework, and the fixture's only cell is `#@tab all`.
    assert_reports(diagnostics(settings, "missing-translation.md"), [
        (1, "no code for 'pytorch': the PyTorch notebook and tabs of this section say so"),
        (1, "no code for 'tensorflow': the TensorFlow notebook and tabs of this section say so"),
    ])
    assert_reports(diagnostics(settings, "missing-translation.md", warnings=True), [
        (9, "'pt' missing: this 'en' passage has no 'pt' block"),
        (18, "'en' missing: this 'pt' passage has no 'en' block"),
    ])


def test_heading_outside_language_blocks(settings):
    assert_reports(diagnostics(settings, "heading-outside.md"), [
        (1, "heading outside any language block"),
    ])


def test_paired_blocks_need_the_same_headings_level_by_level(settings):
    assert_reports(diagnostics(settings, "heading-mismatch.md"), [
        (8, "'pt' block has 2 headings but its 'en' counterpart (line 1) has 3: '# Título', '## Parte um' "
            "against '# Title', '## Part One', '## Part Two'; paired blocks need the same headings"),
        (19, "heading '## Mais fundo' is level 2, but its 'en' counterpart '### Deeper' (line 15) is level 3"),
        (26, "'pt' block has 1 heading but its 'en' counterpart (line 22) has 0: '## Extra' against none"),
    ])


def test_a_block_without_its_partners_heading_is_reported_once(settings, tmp_path):
    chapter = tmp_path / "missing.md"
    chapter.write_text(":begin_lang:`en`\n# Model Parameters\nText.\n:end_lang:\n\n"
                       ":begin_lang:`pt`\nTexto.\n:end_lang:\n")
    found = [(d.line, d.message) for d in check_book([read_chapter(chapter, settings)], settings) if not d.warning]
    assert found == [(6, "'pt' block has no heading but its 'en' counterpart (line 1) has 1: none against "
                         "'# Model Parameters'; paired blocks need the same headings")]


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
        # No complaint about the label at line 21: the misplaced cell at line 3 is the error, and the
        # English heading before it is still there to be named.
        (25, "unknown cell marker #@vary"),
        (1, "no code for 'mxnet'"),
        (1, "no code for 'tensorflow'"),
    ])


def test_the_command_line_prints_file_line_message_and_fails(tmp_path, settings, capsys):
    from bookbuild.cli import main

    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "_config.yml").write_text((settings.root / "_config.yml").read_text())
    for name in ("glossary.yml", "references.bib"):
        (book / name).write_text((settings.root / name).read_text())
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
    for name in ("glossary.yml", "references.bib"):
        (book / name).write_text((settings.root / name).read_text())
    (book / "_toc.yml").write_text("format: jb-book\nroot: chapters/index\nchapters:\n  - file: chapters/gone\n")
    for name in ("index", "forgotten"):
        (book / "chapters" / f"{name}.md").write_text(
            ":begin_lang:`en`\nText.\n:end_lang:\n\n:begin_lang:`pt`\nTexto.\n:end_lang:\n")
    with pytest.raises(BookError) as error:
        read_book(load_settings(book))
    assert [str(d) for d in error.value.diagnostics] == [
        "_toc.yml:4: 'chapters/gone' names no chapter file",
        "chapters/forgotten.md:1: chapter is not listed in _toc.yml",
    ]


FORWARD = {
    "first.md": (":begin_lang:`en`\n# First\nSee :numref:`sec_second`, :numref:`sec_first` and\n"
                 ":numref:`sec_first_part`.\n:end_lang:\n\n:begin_lang:`pt`\n# Primeiro\nVeja a "
                 ":numref:`sec_second`.\n:end_lang:\n\n:label:`sec_first`\n\n:begin_lang:`en`\n"
                 "## Part\nBack to :numref:`sec_first_part`.\n:end_lang:\n\n:begin_lang:`pt`\n## Parte\n"
                 "Texto.\n:end_lang:\n\n:label:`sec_first_part`\n"),
    "second.md": (":begin_lang:`en`\n# Second\nAs in :numref:`sec_first`.\n:end_lang:\n\n"
                  ":begin_lang:`pt`\n# Segundo\nComo na :numref:`sec_first`.\n:end_lang:\n\n"
                  ":label:`sec_second`\n"),
}


def test_forward_references_are_listed_with_file_and_line(settings, tmp_path):
    """Later in the toc, or further down the same file; never the file's own title, never back."""
    book = tmp_path / "chapters"
    book.mkdir()
    for name, text in FORWARD.items():
        (book / name).write_text(text)
    chapters = [read_chapter(book / name, settings) for name in FORWARD]
    order = [f"chapters/{c.name}" for c in chapters]
    found = [(d.path.name, d.line, d.message) for d in forward_references(chapters, order)]
    assert found == [
        ("first.md", 3, ":numref: points forward to 'sec_second' (" + str(chapters[1].path) + ":11)"),
        ("first.md", 4, ":numref: points forward to 'sec_first_part' (" + str(chapters[0].path) + ":24)"),
        ("first.md", 9, ":numref: points forward to 'sec_second' (" + str(chapters[1].path) + ":11)"),
    ]
    # In the other order, the second file's reference is the forward one.
    reverse = [(d.path.name, d.line) for d in forward_references(chapters, order[::-1])]
    assert reverse == [("first.md", 4), ("second.md", 3), ("second.md", 8)]


def test_the_command_line_lists_forward_references_and_still_succeeds(tmp_path, settings, capsys):
    from bookbuild.cli import main

    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "_config.yml").write_text((settings.root / "_config.yml").read_text())
    for name in ("glossary.yml", "references.bib"):
        (book / name).write_text((settings.root / name).read_text())
    (book / "_toc.yml").write_text("format: jb-book\nroot: chapters/first\nchapters:\n  - file: chapters/second\n")
    for name, text in FORWARD.items():
        (book / "chapters" / name).write_text(text)
    assert main(["--root", str(book), "check", "--references"]) == 0
    out = capsys.readouterr().out
    assert "chapters/first.md:3: :numref: points forward to 'sec_second' (chapters/second.md:11)" in out
    assert "chapters/first.md:4: :numref: points forward to 'sec_first_part' (chapters/first.md:24)" in out
    assert "chapters/second.md" not in out.replace("(chapters/second.md:11)", "")
    assert out.strip().endswith("3 :numref: references point forward in the table of contents "
                                "(a listing to review, not an error)")
    assert main(["--root", str(book), "check"]) == 0
    assert "points forward" not in capsys.readouterr().out
