"""Translation states per passage: translated, draft, stale, missing; the lock file; lenient and
strict checks; `bookbuild confirm` and `bookbuild status`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bookbuild import status, translation
from bookbuild.cli import main
from bookbuild.model import DRAFT, MISSING, STALE, TRANSLATED
from bookbuild.read import read_chapter
from bookbuild.settings import load_settings

# Four passages: translated, draft, English-only (pt missing), Portuguese-only (en missing).
SECTION = """\
:begin_lang:`en`
# Ropes
:end_lang:

:begin_lang:`pt`
# Cordas
:end_lang:

:begin_lang:`en`
A rope holds weight along its length.
:end_lang:

:begin_lang:`pt`
:draft:
Uma corda sustenta peso ao longo do comprimento.
:end_lang:

:begin_lang:`en`
Knots weaken it.
:end_lang:

```{.python .input}
#@tab mxnet
x = 1
```

```{.python .input}
#@tab pytorch
x = 1
```

```{.python .input}
#@tab tensorflow
x = 1
```

:begin_lang:`pt`
Só em português.
:end_lang:
"""


@pytest.fixture
def rope_book(tiny_book: Path) -> Path:
    (tiny_book / "_toc.yml").write_text("format: jb-book\nroot: chapters/ropes\n")
    (tiny_book / "chapters" / "ropes.md").write_text(SECTION)
    return tiny_book


def states(book: Path, lang: str = "pt") -> list[str]:
    settings = load_settings(book)
    chapter = read_chapter(book / "chapters" / "ropes.md", settings)
    return [p.states[lang] for p in translation.passages(chapter, settings)]


def test_each_state_comes_from_the_source_and_the_lock(rope_book, capsys):
    assert states(rope_book) == [TRANSLATED, DRAFT, MISSING, TRANSLATED]
    assert states(rope_book, "en") == [TRANSLATED, TRANSLATED, TRANSLATED, MISSING]
    assert main(["--root", str(rope_book), "confirm"]) == 0
    chapter = rope_book / "chapters" / "ropes.md"
    chapter.write_text(chapter.read_text().replace("# Ropes", "# Ropes and Cables"))
    assert states(rope_book) == [STALE, DRAFT, MISSING, TRANSLATED]


@pytest.mark.parametrize(("edit", "expected"), [
    ("A rope holds weight\n   along its length.", DRAFT),  # re-wrapped: same words
    ("A  rope holds\tweight along its length.  ", DRAFT),  # whitespace
    ("A rope holds loads along its length.", STALE),  # one word changed
    ("A rope holds weight along its length!", STALE),  # punctuation is text too
])
def test_stale_survives_rewrapping_but_not_a_changed_word(rope_book, edit, expected):
    main(["--root", str(rope_book), "confirm"])
    chapter = rope_book / "chapters" / "ropes.md"
    chapter.write_text(chapter.read_text().replace("A rope holds weight along its length.", edit))
    assert states(rope_book)[1] == expected


def test_confirm_keeps_stale_unless_named_and_writes_a_readable_deterministic_lock(rope_book, capsys):
    main(["--root", str(rope_book), "confirm"])
    lock = rope_book / "chapters" / "ropes.lock.yml"
    first = lock.read_bytes()
    assert yaml.safe_load(first)["pt"][0]["text"] == "# Ropes"
    main(["--root", str(rope_book), "confirm"])
    assert lock.read_bytes() == first  # nothing changed, nothing rewritten
    chapter = rope_book / "chapters" / "ropes.md"
    chapter.write_text(chapter.read_text().replace("# Ropes", "# Cables"))
    main(["--root", str(rope_book), "confirm"])
    assert states(rope_book)[0] == STALE  # a blanket confirm does not hide a stale translation
    main(["--root", str(rope_book), "confirm", f"{chapter}:6"])  # a line of the Portuguese block
    assert states(rope_book)[0] == TRANSLATED
    # Editing the translation itself is not staleness.
    chapter.write_text(chapter.read_text().replace("# Cordas", "# Cabos"))
    assert states(rope_book)[0] == TRANSLATED


def test_lenient_check_warns_with_file_line_and_exits_0_strict_fails(rope_book, capsys):
    assert main(["--root", str(rope_book), "check"]) == 0
    err = capsys.readouterr().err
    assert "chapters/ropes.md:14: warning: 'pt' draft" in err
    assert "chapters/ropes.md:18: warning: 'pt' missing: this 'en' passage" in err
    assert "chapters/ropes.md:37: warning: 'en' missing: this 'pt' passage" in err
    assert "chapters/ropes.md:5: warning: 'pt' translation not recorded in ropes.lock.yml" in err
    assert main(["--root", str(rope_book), "check", "--strict"]) == 1
    err = capsys.readouterr().err
    assert "chapters/ropes.md:14: 'pt' draft" in err and "warning: 'pt'" not in err


def test_the_config_switch_makes_check_strict(rope_book, capsys):
    config = yaml.safe_load((rope_book / "_config.yml").read_text())
    config["bookbuild"]["translation"]["strict"] = True
    (rope_book / "_config.yml").write_text(yaml.safe_dump(config))
    assert main(["--root", str(rope_book), "check"]) == 1
    assert "chapters/ropes.md:18: 'pt' missing" in capsys.readouterr().err


def test_a_stale_translation_is_reported_at_the_translation(rope_book, capsys):
    main(["--root", str(rope_book), "confirm"])
    chapter = rope_book / "chapters" / "ropes.md"
    chapter.write_text(chapter.read_text().replace("# Ropes", "# Cables"))
    main(["--root", str(rope_book), "check"])
    assert ("chapters/ropes.md:5: warning: 'pt' stale: the 'en' passage at line 1 changed since this "
            "translation was confirmed") in capsys.readouterr().err


@pytest.mark.parametrize(("text", "line", "message"), [
    (":begin_lang:`pt`\nTexto.\n:draft:\n:end_lang:\n", 3, ":draft: must be the first line"),
    (":draft:\n", 1, ":draft: must be the first line"),
    (":begin_lang:`en`\n:draft:\nText.\n:end_lang:\n", 2, "'en' is the book's source language"),
])
def test_a_misplaced_draft_mark_is_an_error(settings, tmp_path, text, line, message):
    path = tmp_path / "draft.md"
    path.write_text(text)
    found = read_chapter(path, settings).diagnostics
    assert [(d.line, message in d.message) for d in found] == [(line, True)]


def test_passages_pair_a_source_block_with_the_translations_right_after_it(settings, tmp_path):
    path = tmp_path / "pairs.md"
    blocks = ["pt", "en", "pt", "en", "en", "pt", "pt"]
    path.write_text("\n\n".join(f":begin_lang:`{lang}`\nText {i}.\n:end_lang:" for i, lang in enumerate(blocks)))
    chapter = read_chapter(path, settings)
    groups = [sorted(p.blocks) for p in translation.passages(chapter, settings)]
    assert groups == [["pt"], ["en", "pt"], ["en"], ["en", "pt"], ["pt"]]


def test_a_broken_lock_is_an_error_at_its_line(rope_book, capsys):
    (rope_book / "chapters" / "ropes.lock.yml").write_text("pt:\n- source: abc\n  translation: [\n")
    assert main(["--root", str(rope_book), "check"]) == 1
    assert "chapters/ropes.lock.yml:4: the translation lock is not valid YAML" in capsys.readouterr().err


def test_status_table_and_json(rope_book, capsys):
    assert main(["--root", str(rope_book), "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    pt = next(item for item in data["chapters"] if item["language"] == "pt")
    assert {k: pt[k] for k in ("chapter", "language", "translated", "draft", "stale", "missing")} == {
        "chapter": "chapters/ropes.md", "language": "pt", "translated": 2, "draft": 1, "stale": 0, "missing": 1}
    assert pt["words"] == {"translated": 4, "draft": 7, "stale": 0, "missing": 3}
    assert [(g["state"], g["line"]) for g in pt["gaps"]] == [("draft", 14), ("missing", 18)]
    en = next(item for item in data["chapters"] if item["language"] == "en")
    assert (en["translated"], en["missing"]) == (3, 1)
    assert next(t for t in data["totals"] if t["language"] == "pt")["draft"] == 1
    assert main(["--root", str(rope_book), "status"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["chapter", "lang", "translated", "draft", "stale", "missing", "done"]
    row = next(line for line in table if line.startswith("chapters/ropes.md") and " pt " in line)
    assert row.split()[2:] == ["2", "(4", "w)", "1", "(7", "w)", "0", "(0", "w)", "1", "(3", "w)", "29%"]
    assert table[-1].startswith("total") and table[-1].endswith("29%")


def test_the_status_page_lists_every_gap_with_a_link_to_its_line(rope_book):
    settings = load_settings(rope_book)
    chapter = read_chapter(rope_book / "chapters" / "ropes.md", settings)
    page = status.status_page([chapter], "pt", settings)
    assert page.startswith("# Estado da tradução\n")
    assert "| Cordas | Português (Brasil) | 4 | 7 | 0 | 3 | 29% |" in page
    assert "- [linha 14](https://github.com/dl-hands-on/book/blob/main/chapters/ropes.md#L14): rascunho" in page
    assert "- [linha 37](https://github.com/dl-hands-on/book/blob/main/chapters/ropes.md#L37): faltando" in page
    assert status.status_page([chapter], "en", settings).startswith("# Translation status\n")


def test_the_book_is_fully_translated_reviewed_and_locked(settings, capsys):
    """`make test` runs the strict check; this says the same from the unit tests."""
    assert main(["--root", str(settings.root), "check", "--strict"]) == 0
    capsys.readouterr()
    assert main(["--root", str(settings.root), "status", "--json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert all(t["draft"] == t["stale"] == t["missing"] == 0 and t["translated"] > 0 for t in totals)
