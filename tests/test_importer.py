"""`bookbuild import`: an interleaved file in the shape of a translation caught midway, two
monolingual files of one section, a monolingual file; repairs; refusals that change nothing."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from conftest import FIXTURES

from bookbuild import translation
from bookbuild.cli import main
from bookbuild.model import DRAFT, MISSING, TRANSLATED
from bookbuild.read import read_chapter
from bookbuild.settings import load_settings

IMPORT = FIXTURES / "import"
WINDOWS = (IMPORT / "windows.md").read_text()


@pytest.fixture
def book(tiny_book: Path) -> Path:
    """A book whose first chapter holds the label the fixtures refer to; the import lands in the second."""
    (tiny_book / "_toc.yml").write_text("format: jb-book\nroot: chapters/part/section\noptions:\n  numbered: true\n"
                                        "chapters:\n  - file: chapters/part/windows\n")
    (tiny_book / "chapters" / "part").mkdir()
    (tiny_book / "chapters" / "part" / "windows.md").write_text(WINDOWS)
    return tiny_book


def run_import(book: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["--root", str(book), "import", *args])
    out, err = capsys.readouterr()
    return code, out, err


def blocks(text: str) -> list[tuple[str, str]]:
    """(language, first line of text) of every language block, in order."""
    found = re.findall(r":begin_lang:`(\w+)`\n(?::draft:\n)?(.*)", text)
    return [(lang, first) for lang, first in found]


def test_an_interleaved_file_becomes_pairs_drafts_and_gaps(book, capsys):
    out = book / "chapters" / "part" / "section.md"
    code, stdout, err = run_import(book, capsys, str(IMPORT / "interleaved.md"), "--out", str(out))
    assert code == 0, err
    text = out.read_text()
    assert blocks(text) == [
        ("pt", "# Médias móveis"),
        ("en", "A moving average smooths a noisy sequence"), ("pt", "Uma média móvel suaviza uma sequência ruidosa"),
        ("en", "## A Window of Three"),
        ("en", "We keep the last three values"), ("pt", "Guardamos os três últimos valores"),
        ("en", "The result lies between the smallest and the largest value of the window."),
        ("pt", "O resultado fica entre o menor e o maior valor da janela."),
        ("en", "## Summary"),
        ("en", "* A moving average replaces each value with the mean of a window around it."),
        ("pt", "* Uma média móvel troca cada valor pela média de uma janela ao redor dele."),
        ("en", "## Exercises"),
        ("en", "1. Change the window to five values and compare the results."),
        ("pt", "1. Troque a janela por cinco valores e compare os resultados."),
        ("en", ":begin_tab:`pytorch`"),
    ]
    assert text.count(":draft:") == 5  # every imported translation, not the Portuguese-only title
    assert "2. Escreva uma média ponderada" in text and "* \n" not in text
    # Code, equations and labels exactly as they were.
    source = (IMPORT / "interleaved.md").read_text()
    for cell in re.findall(r"```\{\.python \.input\}.*?```", source, re.S):
        assert cell in text
    assert "$$m_t = \\frac{1}{3} \\sum_{i=0}^{2} x_{t-i}$$\n:eqlabel:`eq_window_mean`" in text
    # Mangled markers repaired, and every repair and gap reported with file:line.
    assert "como em :numref:`sec_windows`." in text and ":begin_tab:`pytorch`\nAny" in text
    fixture = str(IMPORT / "interleaved.md")
    for line, message in [(1, "'pt' heading with no partner: kept alone, its 'en' is missing"),
                          (13, "'en' heading with no partner"),
                          (19, "repaired a marker mangled by a translation tool"),
                          (48, "a list changes language halfway: split into 2 lists"),
                          (50, "dropped an empty list item"),
                          (58, "renumbered the pt list to start at 1"),
                          (61, "repaired a marker"), (63, "repaired a marker")]:
        assert f"{fixture}:{line}: {message}" in err, (line, err)
    assert "next: list `- file: chapters/part/section` in _toc.yml" not in stdout  # it is listed already


def test_the_imported_chapter_checks_with_warnings_only_and_has_its_states(book, capsys):
    out = book / "chapters" / "part" / "section.md"
    run_import(book, capsys, str(IMPORT / "interleaved.md"), "--out", str(out))
    assert main(["--root", str(book), "check"]) == 0
    err = capsys.readouterr().err
    assert "warning: 'pt' draft" in err and "warning: 'en' missing" in err
    assert "not recorded in section.lock.yml" not in err  # the importer wrote the lock
    assert main(["--root", str(book), "check", "--strict"]) == 1
    settings = load_settings(book)
    passages = translation.passages(read_chapter(out, settings), settings)
    assert [p.states["pt"] for p in passages][:4] == [TRANSLATED, DRAFT, MISSING, DRAFT]
    assert passages[0].states["en"] == MISSING


def test_reviewed_imports_carry_no_draft_mark_and_the_import_is_deterministic(book, capsys):
    first, second = book / "chapters" / "part" / "section.md", book / "again.md"
    run_import(book, capsys, str(IMPORT / "interleaved.md"), "--out", str(first), "--reviewed")
    run_import(book, capsys, str(IMPORT / "interleaved.md"), "--out", str(second), "--reviewed")
    assert ":draft:" not in first.read_text()
    assert first.read_bytes() == second.read_bytes()
    lock = translation.lock_path(first).read_text()
    assert lock == translation.lock_path(second).read_text().replace("again.md", "part/section.md")


def test_two_monolingual_files_align_on_their_anchors(book, capsys):
    out = book / "chapters" / "part" / "section.md"
    en, pt = IMPORT / "two-files-en.md", IMPORT / "two-files-pt.md"
    code, _, err = run_import(book, capsys, str(en), "--pt", str(pt), "--out", str(out))
    assert code == 0, err
    text = out.read_text()
    assert blocks(text) == [
        ("en", "# Early Stopping"), ("pt", "# Parada antecipada"),
        ("en", "Training longer does not always help. After a while the error on held-out data"),
        ("pt", "Treinar por mais tempo nem sempre ajuda. Depois de algum tempo, o erro nos"),
        ("en", "Early stopping watches the held-out error and keeps the best model seen so far."),
        ("pt", "A parada antecipada observa o erro nos dados separados e guarda o melhor modelo"),
        ("en", "## Patience"), ("pt", "## Paciência"),
        ("en", "We do not stop at the first bad epoch: we wait a few epochs, the *patience*,"),
        ("pt", "Não paramos na primeira época ruim: esperamos algumas épocas, a *paciência*,"),
        ("en", "## Summary"), ("en", "Stopping early is a cheap regularizer."),
    ]
    assert "key=errors.__getitem__" in text and "errors.index(min(errors))" not in text
    assert "Um parágrafo que só existe na tradução." in text  # nothing lost
    assert f"{en}:9: differs from {pt}:10: kept this file's code" in err
    assert f"{en}:18: 1 block here and 2 blocks in {pt}:19: paired as one passage" in err
    assert f"{en}:30: heading has no counterpart in {pt}" in err
    assert read_chapter(out, load_settings(book)).diagnostics == []


def test_a_monolingual_file_gets_every_translation_missing(book, capsys):
    out = book / "chapters" / "part" / "section.md"
    code, _, err = run_import(book, capsys, str(IMPORT / "two-files-en.md"), "--out", str(out))
    assert code == 0, err
    settings = load_settings(book)
    passages = translation.passages(read_chapter(out, settings), settings)
    assert len(passages) == 7 and all(p.states["pt"] == MISSING for p in passages)
    assert not translation.lock_path(out).exists()  # nothing to lock yet


def tree(book: Path) -> dict[str, str]:
    return {str(p.relative_to(book)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(book.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("args", "where", "message"), [
    (["two-files-en.md", "--pt", "unrelated-pt.md"], "unrelated-pt.md:1",
     "aligns nowhere with"),
    (["missing.md"], "missing.md", "no such file"),
    (["binary.md"], "binary.md:2", "NUL byte"),
    (["windows.md"], "windows.md:1", "already has language blocks"),
    (["empty.md"], "empty.md:1", "nothing to import"),
])
def test_bad_input_gives_file_line_and_writes_nothing(book, capsys, args, where, message):
    (book / "binary.md").write_bytes(b"# Title\n\xff\xfe\x00\n")
    (book / "empty.md").write_text("\n\n")
    sources = [str(IMPORT / a) if (IMPORT / a).exists() else str(book / a) if not a.startswith("--") else a
               for a in args]
    before = tree(book)
    code, _, err = run_import(book, capsys, *sources, "--out", str(book / "chapters" / "part" / "section.md"))
    assert code == 1 and f"{where}: {message}" in err and "Traceback" not in err, err
    assert tree(book) == before


def test_an_existing_chapter_is_only_replaced_with_force(book, capsys):
    out = book / "chapters" / "part" / "windows.md"
    before = out.read_bytes()
    code, _, err = run_import(book, capsys, str(IMPORT / "two-files-en.md"), "--out", str(out))
    assert code == 1 and "windows.md:1: exists already: pass --force to replace it" in err
    assert out.read_bytes() == before
    code, _, _ = run_import(book, capsys, str(IMPORT / "two-files-en.md"), "--out", str(out), "--force")
    assert code == 0 and out.read_bytes() != before
