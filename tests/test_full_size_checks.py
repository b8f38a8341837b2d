"""What a full-size d2lbook book brings, read and checked: plain chapters, framework gaps, `$$` after
prose, labels on their figure's line, citations, eval_rst, images and headings. Each fixture in
tests/fixtures/chapters/ is checked, and every diagnostic must be the expected one at its line."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import FIXTURES

from bookbuild import status
from bookbuild.check import check_book
from bookbuild.model import MISSING, TRANSLATED, Citation, Equation, Figure, Heading, Prose, Rst
from bookbuild.read import read_chapter
from bookbuild.render_myst import myst_prose
from bookbuild.translation import passages

CHAPTERS = FIXTURES / "chapters"

# (fixture, every error as (line, fragment), every warning as (line, fragment)), the book's own
# settings: frameworks are all required (bookbuild.every_framework), references.bib is the bibliography.
CASES = [
    ("plain.md",
     [(1, "no code for 'tensorflow': the TensorFlow notebook and tabs of this section say so")],
     [(1, "'pt' missing: the chapter is written in 'en' only, without language blocks (2 passages)")]),
    ("math-and-labels.md",
     [(22, "marker :label: inside a line of text")],
     [(1, "'pt' missing")]),
    ("citations.md",
     [(7, "unknown citation key 'Nobody.2099' (not in references.bib)"),
      (7, "unknown citation key 'Nobody.2098' (not in references.bib)")],
     [(1, "'pt' missing")]),
    ("eval-rst.md",
     [(21, "eval_rst: `.. toctree::` cannot be used here: the table of contents comes from _toc.yml"),
      (29, "eval_rst: Malformed table."),
      (32, "eval_rst: Blank line required after table."),
      (36, 'eval_rst: Unknown directive type "nosuchdirective".'),
      (43, "unknown directive {nosuchthing}: MyST reads ```{nosuchthing} as a directive")],
     [(1, "'pt' missing")]),
    ("images-and-headings.md",
     [(1, "the page's first heading is level 2: a page starts with its title"),
      (5, "image 'img/missing.png' not found (no file tests/fixtures/chapters/img/missing.png)"),
      (7, "image 'img/gone.svg' not found"),
      (10, "heading skips a level: level 4 right after level 2 (line 1); use ###"),
      (12, "figure 'fig_fixture_no_caption' has a label but no caption"),
      (15, "image 'img/absent.png' not found"),
      (17, "link to 'nowhere.md#part', which names no chapter file")],
     [(1, "'pt' missing")]),
]


def reports(settings, name: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    found = check_book([read_chapter(CHAPTERS / name, settings)], settings)
    errors = [(d.line, d.message) for d in found if not d.warning]
    warnings = [(d.line, d.message) for d in found if d.warning]
    return errors, warnings


def assert_exactly(found: list[tuple[int, str]], expected: list[tuple[int, str]]) -> None:
    for line, fragment in expected:
        assert any(ln == line and fragment in message for ln, message in found), f"no {line}: {fragment!r} in {found}"
    assert len(found) == len(expected), found


@pytest.mark.parametrize("name, errors, warnings", CASES, ids=[case[0] for case in CASES])
def test_each_case_is_reported_at_its_line(settings, name, errors, warnings):
    found_errors, found_warnings = reports(settings, name)
    assert_exactly(found_errors, errors)
    assert_exactly(found_warnings, warnings)


def test_a_plain_chapter_is_the_source_language_with_every_translation_missing(settings):
    chapter = read_chapter(CHAPTERS / "plain.md", settings)
    assert chapter.plain and not chapter.bilingual and not chapter.diagnostics
    # Two stretches of prose around the code cells: two passages, English, missing in Portuguese.
    found = passages(chapter, settings)
    assert [(p.line, p.states) for p in found] == [
        (1, {"en": TRANSLATED, "pt": MISSING}), (18, {"en": TRANSLATED, "pt": MISSING})]
    assert "Only PyTorch readers see this remark." in found[1].blocks["en"].text
    assert all(b.lang == "en" for b in chapter.blocks if isinstance(b, Prose))
    assert [t.name for t in chapter.targets] == ["sec_plain_windows"]


def test_a_plain_chapter_converted_in_another_language_is_in_that_language(settings):
    chapter = read_chapter(CHAPTERS / "plain.md", settings, language="pt")
    assert {p.states["pt"] for p in passages(chapter, settings)} == {TRANSLATED}
    assert {p.states["en"] for p in passages(chapter, settings)} == {MISSING}


def test_framework_gaps_are_warnings_unless_the_book_asks_for_every_framework(settings):
    lenient = replace(settings, every_framework=False)
    errors, warnings = reports(lenient, "plain.md")
    assert errors == []
    assert [line for line, message in warnings if "no code for 'tensorflow'" in message] == [1]
    chapter = read_chapter(CHAPTERS / "plain.md", lenient)
    assert chapter.framework_gaps(settings.framework_names) == ["tensorflow"]


def test_status_counts_framework_gaps_next_to_translation_gaps(settings):
    chapter = read_chapter(CHAPTERS / "plain.md", settings)
    rows = status.book_coverage([chapter], settings)
    pt = next(row for row in rows if row.language == "pt")
    assert (pt.blocks[MISSING], pt.no_code) == (2, ["tensorflow"])
    data = status.to_json(rows, settings)
    assert '"framework_gaps": [\n        "tensorflow"\n      ]' in data
    assert '"framework_gaps": {\n    "mxnet": 0,\n    "pytorch": 0,\n    "tensorflow": 1\n  }' in data
    table = status.to_table(rows, settings)
    assert "framework gaps: tensorflow 1 of 1 chapters" in table
    assert "tests/fixtures/chapters/plain.md: no code for tensorflow" in table


def parts(chapter, kind):
    return [part for block in chapter.blocks if isinstance(block, Prose) for part in block.parts
            if isinstance(part, kind)]


def test_dollars_after_prose_are_display_equations_with_their_labels(settings):
    chapter = read_chapter(CHAPTERS / "math-and-labels.md", settings)
    equations = parts(chapter, Equation)
    assert [(e.line, e.label, e.text) for e in equations] == [
        (4, "eq_fixture_line", "$$\ny = w x + b\n$$"),
        (10, "eq_fixture_sigmoid", "$$\\hat{y} = \\sigma(z)$$"),
        (13, None, "$$z = w^\\top x$$"),
    ]
    text = "\n".join(myst_prose(block) for block in chapter.blocks if isinstance(block, Prose))
    # MyST needs the blank lines that d2lbook did not: the equation is its own block.
    assert "no blank line between:\n\n$$\ny = w x + b\n$$ (eq_fixture_line)" in text
    assert "middle of a paragraph,\n\n$$z = w^\\top x$$\n\nafter which" in text


def test_a_label_on_its_figures_or_headings_line_labels_it(settings):
    chapter = read_chapter(CHAPTERS / "math-and-labels.md", settings)
    assert [(t.name, t.kind) for t in chapter.targets] == [
        ("eq_fixture_line", "equation"), ("eq_fixture_sigmoid", "equation"),
        ("sec_fixture_heading", "section"), ("fig_fixture_dot", "figure")]
    [heading] = [h for h in parts(chapter, Heading) if h.level == 2]
    assert (heading.title, heading.label) == ("A Labelled Heading", "sec_fixture_heading")
    [figure] = parts(chapter, Figure)
    assert (figure.path, figure.label) == ("img/dot.svg", "fig_fixture_dot")


def test_citations_are_data_with_their_keys_and_form(settings):
    chapter = read_chapter(CHAPTERS / "citations.md", settings)
    assert chapter.citations[:3] == [
        Citation(("Glorot.Bengio.2010",), 3), Citation(("He.Zhang.Ren.ea.2015",), 4, textual=True),
        Citation(("Glorot.Bengio.2010", "He.Zhang.Ren.ea.2015"), 5)]
    text = myst_prose(chapter.blocks[0])
    assert "{cite:p}`Glorot.Bengio.2010` keeps" in text and "{cite:t}`He.Zhang.Ren.ea.2015` adapt" in text


def test_eval_rst_blocks_are_kept_for_sphinx(settings):
    chapter = read_chapter(CHAPTERS / "eval-rst.md", settings)
    blocks = parts(chapter, Rst)
    assert [b.line for b in blocks] == [3, 13, 20, 26, 35]
    assert blocks[0].text.startswith(".. list-table:: Frameworks")
    assert "```{eval-rst}\n.. list-table:: Frameworks" in myst_prose(chapter.blocks[0])
    # A reference inside reStructuredText is checked like any other.
    assert [(r.name, r.line) for r in chapter.references] == [("sec_fixture_rst", 16)]
    # Pandoc's ```{.json .output} is a plain block for MyST, not a directive named ".json".
    assert '```json\n{"a": 1}\n```' in myst_prose(chapter.blocks[-1])
