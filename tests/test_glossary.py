"""The glossary as data and its check."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild import glossary
from bookbuild.cli import main

GLOSSARY = """\
pt:
  - en: layer
    pt: [camada]
  - en: [fully connected layer, dense layer]
    pt: [camada totalmente conectada, camada densa]
  - en: bias
    pt: [viés]
  - en: optimizer
    pt: [otimizador]
  - en: deep learning
    keep: true
  - en: checkpoint
    pt: [ponto de verificação]
"""


def chapter(en: str, pt: str) -> str:
    return f":begin_lang:`en`\n{en}\n:end_lang:\n\n:begin_lang:`pt`\n{pt}\n:end_lang:\n"


@pytest.fixture
def book(tiny_book: Path) -> Path:
    (tiny_book / "glossary.yml").write_text(GLOSSARY)
    (tiny_book / "_toc.yml").write_text("format: jb-book\nroot: chapters/terms\n")
    return tiny_book


def findings(book: Path, capsys, en: str, pt: str) -> list[str]:
    (book / "chapters" / "terms.md").write_text(chapter(en, pt))
    main(["--root", str(book), "confirm"])
    capsys.readouterr()
    main(["--root", str(book), "check"])
    return [line.split(": warning: glossary: ")[0].split(":")[-1] + ": " + line.split("glossary: ")[1]
            for line in capsys.readouterr().err.splitlines() if "glossary:" in line]


@pytest.mark.parametrize(("en", "pt", "expected"), [
    # The approved term, inflected (plural, gender), is fine.
    ("Two layers.", "Duas camadas.", []),
    ("A dense layer.", "Camadas densas.", []),
    ("Biases.", "Os vieses.", []),
    ("An optimizer.", "Uma otimizadora.", []),
    ("Deep learning works.", "O deep learning funciona.", []),
    # A term rendered otherwise.
    ("Three layers.", "Três níveis.", ["5: the 'en' passage at line 1 says 'layers', and this 'pt' translation "
                                       "uses none of 'camada' (glossary.yml:2)"]),
    ("Deep learning works.", "O aprendizado profundo funciona.",
     ["5: the 'en' passage at line 1 says 'Deep learning', and this 'pt' translation uses none of "
      "'deep learning' (glossary.yml:10)"]),
    # English words in Portuguese prose, at their own line.
    ("A layer.", "Uma camada,\numa layer.", ["7: 'layer' is English; this 'pt' prose says 'camada' (glossary.yml:2)"]),
    ("Checkpoints.", "Pontos de verificação,\nnão checkpoints.",
     ["7: 'checkpoints' is English; this 'pt' prose says 'ponto de verificação' (glossary.yml:12)"]),
    # Not prose: code, math, italic glosses (even across lines), link targets.
    ("A layer.", "Uma camada (`layer`), $layer$, [camada](https://x.org/layer).", []),
    ("A checkpoint.", "Um ponto de verificação (*check-\npoint*, *checkpoint*).", []),
    ("A checkpoint.", "Um ponto de\nverificação.", []),  # a term may wrap
])
def test_glossary_findings(book, capsys, en, pt, expected):
    assert findings(book, capsys, en, pt) == expected


@pytest.mark.parametrize(("word", "forms"), [
    ("camada", {"camada", "camadas", "camado", "camados"}),
    ("viés", {"viés", "vieses"}),
    ("propagação", {"propagação", "propagações", "propagaçães", "propagaçãos"}),
    ("otimizador", {"otimizador", "otimizadores", "otimizadora", "otimizadoras"}),
    ("contêiner", {"contêiner", "contêineres"}),
    ("de", {"de"}),
])
def test_portuguese_inflections(word, forms):
    assert glossary.portuguese_word_forms(word) == forms


@pytest.mark.parametrize(("term", "forms"), [
    ("layer", {"layer", "layers"}),
    ("minibatch", {"minibatch", "minibatches"}),
    ("bias", {"bias", "biases"}),
    ("gradient", {"gradient", "gradients"}),
    ("fully connected layer", {"fully connected layer", "fully connected layers"}),
])
def test_english_inflections(term, forms):
    assert glossary.english_forms(term) == forms


@pytest.mark.parametrize(("content", "line", "message"), [
    ("pt:\n  - en: layer\n    pt: [camada\n", "4:1", "YAML syntax"),
    ("pt:\n  - en: layer\n", 2, "a term needs `en` and either `pt`"),
    ("pt:\n  - en: layer\n    pt: camada\n    fr: couche\n", 2, "unknown key(s) fr"),
    ("es:\n  - en: layer\n    es: capa\n", 1, "'es' is not a translation language"),
])
def test_a_broken_glossary_is_an_error_at_its_line(book, capsys, content, line, message):
    (book / "glossary.yml").write_text(content)
    (book / "chapters" / "terms.md").write_text(chapter("A layer.", "Uma camada."))
    assert main(["--root", str(book), "check"]) == 1
    err = capsys.readouterr().err
    assert f"glossary.yml:{line}: {message}" in err, err


@pytest.mark.parametrize("text", [
    "A dense layer.", "The GPU's memory.", "Dense\nlayers stack.", "checkpoints", "re-layer and layer-wise",
    "nothing here", "BIASES everywhere", "deep   learning",
])
def test_the_quick_look_never_lets_a_named_term_go(text: str) -> None:
    """``may_name`` skips the terms' expression for a text it rejects: it must not reject a text
    in which the expression finds a term."""
    terms = (glossary.Term(("dense layer",), ("camada densa",), 1), glossary.Term(("GPU",), ("GPU",), 2),
             glossary.Term(("bias",), ("viés",), 3), glossary.Term(("deep learning",), ("deep learning",), 4),
             glossary.Term(("checkpoint",), ("ponto de verificação",), 5), glossary.Term(("layer",), ("camada",), 6))
    expression, forms = glossary.english_words(terms, kept=True)
    found = bool(expression.search(text))
    assert glossary.may_name(text, glossary.first_words(forms)) or not found
    assert found == (text not in ("nothing here", "re-layer and layer-wise"))
