"""The gettext round trip: `bookbuild po export` and `bookbuild po import`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polib
import pytest
from test_translation import SECTION

from bookbuild.cli import main

PO = Path("locale/pt_BR/LC_MESSAGES/ropes.po")


@pytest.fixture
def rope_book(tiny_book: Path) -> Path:
    (tiny_book / "_toc.yml").write_text("format: jb-book\nroot: chapters/ropes\n")
    (tiny_book / "chapters" / "ropes.md").write_text(SECTION)
    assert main(["--root", str(tiny_book), "confirm"]) == 0
    return tiny_book


def snapshot(book: Path) -> dict[str, str]:
    """sha256 of every chapter and lock file."""
    return {str(p.relative_to(book)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((book / "chapters").rglob("*")) if p.is_file()}


def export(book: Path) -> polib.POFile:
    assert main(["--root", str(book), "po", "export"]) == 0
    return polib.pofile(str(book / PO))


def test_export_writes_one_entry_per_source_passage(rope_book):
    po = export(rope_book)
    assert po.metadata["Language"] == "pt_BR"
    entries = [(e.msgid, e.msgstr, e.flags, e.occurrences) for e in po]
    assert entries == [
        ("# Ropes", "# Cordas", [], [("chapters/ropes.md", "1")]),
        ("A rope holds weight along its length.", "Uma corda sustenta peso ao longo do comprimento.",
         ["fuzzy"], [("chapters/ropes.md", "9")]),
        ("Knots weaken it.", "", [], [("chapters/ropes.md", "18")]),
    ]


def test_export_then_import_changes_no_byte(rope_book):
    before = snapshot(rope_book)
    export(rope_book)
    assert main(["--root", str(rope_book), "po", "import"]) == 0
    assert snapshot(rope_book) == before


def test_the_books_own_chapters_survive_the_round_trip(settings, tmp_path):
    import shutil

    book = tmp_path / "book"
    shutil.copytree(settings.root / "chapters", book / "chapters")
    for name in ("_config.yml", "_toc.yml", "glossary.yml", "references.bib"):
        shutil.copy(settings.root / name, book / name)
    before = snapshot(book)
    assert main(["--root", str(book), "po", "export"]) == 0
    assert len(list((book / "locale").rglob("*.po"))) == 8
    assert main(["--root", str(book), "po", "import"]) == 0
    assert snapshot(book) == before


def test_import_writes_translations_reviews_drafts_and_records_the_lock(rope_book, capsys):
    po = export(rope_book)
    po[0].flags.append("fuzzy")  # a translator doubts the heading
    po[1].flags.remove("fuzzy")  # and reviews the draft
    po[2].msgstr = "Nós a enfraquecem."  # and translates the missing passage
    po.save(str(rope_book / PO))
    assert main(["--root", str(rope_book), "po", "import"]) == 0
    text = (rope_book / "chapters" / "ropes.md").read_text()
    assert ":begin_lang:`pt`\n:draft:\n# Cordas\n:end_lang:" in text
    assert ":draft:\nUma corda" not in text
    assert ":begin_lang:`en`\nKnots weaken it.\n:end_lang:\n\n:begin_lang:`pt`\nNós a enfraquecem.\n:end_lang:" in text
    assert main(["--root", str(rope_book), "check"]) == 0
    err = capsys.readouterr().err
    assert "'pt' draft" in err and "'pt' missing: this 'en'" not in err and "not recorded" not in err


def test_a_stale_translation_exports_fuzzy_and_unfuzzied_it_is_confirmed(rope_book, capsys):
    chapter = rope_book / "chapters" / "ropes.md"
    chapter.write_text(chapter.read_text().replace("# Ropes", "# Cables"))
    po = export(rope_book)
    assert po[0].flags == ["fuzzy"] and "changed" in po[0].comment
    before = snapshot(rope_book)
    assert main(["--root", str(rope_book), "po", "import"]) == 0
    assert snapshot(rope_book) == before  # still fuzzy: still stale
    po[0].flags.remove("fuzzy")
    po.save(str(rope_book / PO))
    assert main(["--root", str(rope_book), "po", "import"]) == 0
    capsys.readouterr()
    main(["--root", str(rope_book), "check"])
    assert "stale" not in capsys.readouterr().err


@pytest.mark.parametrize(("content", "line", "message"), [
    (b'msgid ""\nmsgstr ""\n\n#: x\nmsgid "A"\nmsgstr "B"\nmsgid\n', 7, "the PO file is not valid"),
    (b'msgid ""\nmsgstr ""\n\nmsgid "\xff\xfe"\nmsgstr ""\n', 4, "is not UTF-8"),
    (b'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n#: chapters/ropes.md:1\n'
     b'msgid "# Ropes and Knots"\nmsgstr "# Cordas e n\xc3\xb3s"\n', 5, "msgid is no longer in chapters/ropes.md"),
    (b'msgid ""\nmsgstr ""\n\nmsgid "# Ropes"\nmsgstr "# Cordas\\n:end_lang:"\n', 1, "would break chapters/ropes.md"),
])
def test_bad_po_input_gives_file_line_and_changes_nothing(rope_book, capsys, content, line, message):
    before = snapshot(rope_book)
    (rope_book / PO).parent.mkdir(parents=True)
    (rope_book / PO).write_bytes(content)
    assert main(["--root", str(rope_book), "po", "import"]) == 1
    err = capsys.readouterr().err
    assert f"{PO}:{line}: " in err and message in err, err
    assert "Traceback" not in err
    assert snapshot(rope_book) == before


def test_a_po_file_for_no_chapter_is_refused(rope_book, capsys):
    stray = rope_book / "locale" / "pt_BR" / "LC_MESSAGES" / "gone.po"
    stray.parent.mkdir(parents=True)
    stray.write_text('msgid ""\nmsgstr ""\n')
    assert main(["--root", str(rope_book), "po", "import", str(stray)]) == 1
    assert "gone.po:1: no chapter chapters/gone.md" in capsys.readouterr().err


def test_a_plain_chapters_translation_waits_for_its_language_blocks(tiny_book, capsys):
    """A plain d2lbook chapter exports as any other; a translation cannot go back into it until it
    has language blocks (which `bookbuild import` gives it), and the command says how."""
    (tiny_book / "_toc.yml").write_text("format: jb-book\nroot: chapters/plain\n")
    chapter = tiny_book / "chapters" / "plain.md"
    chapter.write_text("# Knots\n\nA knot holds a rope.\n")
    assert main(["--root", str(tiny_book), "po", "export"]) == 0
    path = tiny_book / "locale/pt_BR/LC_MESSAGES/plain.po"
    catalog = polib.pofile(str(path))
    assert [entry.msgid for entry in catalog] == ["# Knots\n\nA knot holds a rope."]
    catalog[0].msgstr = "# Nós\n\nUm nó segura uma corda."
    catalog.save(str(path))
    before = snapshot(tiny_book)
    assert main(["--root", str(tiny_book), "po", "import"]) == 1
    err = capsys.readouterr().err
    assert "plain.po:" in err and "has no language blocks (a plain d2lbook chapter)" in err, err
    assert snapshot(tiny_book) == before
    # As the message says: language blocks first (one per paragraph now), then the translation goes in.
    assert main(["--root", str(tiny_book), "import", str(chapter), "--out", str(chapter), "--force"]) == 0
    assert main(["--root", str(tiny_book), "po", "export"]) == 0
    catalog = polib.pofile(str(path))
    translated = {"# Knots": "# Nós", "A knot holds a rope.": "Um nó segura uma corda."}
    for entry in catalog:
        entry.msgstr = translated[entry.msgid]
    catalog.save(str(path))
    assert main(["--root", str(tiny_book), "po", "import"]) == 0
    text = chapter.read_text()
    assert ":begin_lang:`pt`\n# Nós" in text and ":begin_lang:`pt`\nUm nó segura uma corda." in text
