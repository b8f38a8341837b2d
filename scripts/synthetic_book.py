"""Generate a synthetic book of any size, for benchmarks and scale tests.

The book has the real book's settings (languages, frameworks, kernel environments) and as many
sections as asked, grouped into chapters. Each section is bilingual and has small but real code in
every framework: imports, tensor operations and a tiny training loop, with numbers that vary from
section to section so that no two sections share an execution. Nothing here is ever committed:
callers generate the book into a temporary folder.

    python scripts/synthetic_book.py /tmp/book --sections 120

``long_chapter`` writes one very long chapter instead (thousands of paragraphs and code cells),
for the reader's benchmark. ``FULL_SIZE`` (``--full-size``) is the shape of a real d2lbook book
brought in as it is: 160 sections, a figure in each (a few tens of kB, as a real book's), citations
of references.bib, TensorFlow missing from a third of the sections and PyTorch from a few
(framework gaps), every fourth chapter plain d2lbook (no language blocks: untranslated), `$$`
right after prose, labels on their figure's line and eval_rst tables. To grow the generator, add a
field to ``Shape`` and a writer for it, so that every benchmark shares one generator.
"""

from __future__ import annotations

import argparse
import math
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from bookbuild import translation
from bookbuild.check import chapter_files
from bookbuild.read import read_chapter
from bookbuild.settings import load_settings

REPO = Path(__file__).resolve().parent.parent
# What a book needs besides its chapters: settings, kernel environments, the nbval sanitizers.
COPIED = ["_config.yml", "glossary.yml", "references.bib", "envs", "tests/nbval-sanitize.cfg",
          "tests/nbval-sanitize-gpu.cfg"]


@dataclass(frozen=True)
class Shape:
    sections: int = 120
    sections_per_chapter: int = 10
    d2lbook: bool = False  # what a full-size d2lbook book brings (see FULL_SIZE)


FULL_SIZE = Shape(sections=160, d2lbook=True)


def imports(framework: str) -> str:
    return {
        "mxnet": "from mxnet import autograd, np, npx\nnpx.set_np()",
        "pytorch": "import torch",
        "tensorflow": "import tensorflow as tf",
    }[framework]


def tensor_ops(framework: str, n: int) -> str:
    rows, columns = 2 + n % 4, 3 + n % 3
    size = rows * columns
    return {
        "mxnet": f"X = np.arange({size}).reshape({rows}, {columns})\n"
                 "print(X.sum(axis=0), float(X.mean()))",
        "pytorch": f"X = torch.arange({size}, dtype=torch.float32).reshape({rows}, {columns})\n"
                   "print(X.sum(dim=0), X.mean().item())",
        "tensorflow": f"X = tf.reshape(tf.range({size}, dtype=tf.float32), ({rows}, {columns}))\n"
                      "print(tf.reduce_sum(X, axis=0).numpy(), float(tf.reduce_mean(X)))",
    }[framework]


def training(framework: str, n: int) -> str:
    """Linear regression by gradient descent on 64 generated examples; prints the last loss."""
    steps, rate, bias = 10 + n % 15, 0.05 + (n % 5) / 100, 1 + n % 7
    return {
        "mxnet": f"""\
features = np.random.normal(0, 1, (64, 3))
labels = features @ np.array([2.0, -3.4, 1.5]) + {bias}
w, b = np.zeros(3), np.zeros(1)
w.attach_grad()
b.attach_grad()
for step in range({steps}):
    with autograd.record():
        loss = ((features @ w + b - labels) ** 2).mean()
    loss.backward()
    w[:] = w - {rate} * w.grad
    b[:] = b - {rate} * b.grad
print(f"loss after {steps} steps: {{float(loss):.4f}}")""",
        "pytorch": f"""\
features = torch.randn(64, 3)
labels = features @ torch.tensor([2.0, -3.4, 1.5]) + {bias}
net = torch.nn.Linear(3, 1)
optimizer = torch.optim.SGD(net.parameters(), lr={rate})
for step in range({steps}):
    loss = ((net(features).squeeze(-1) - labels) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f"loss after {steps} steps: {{loss.item():.4f}}")""",
        "tensorflow": f"""\
features = tf.random.normal((64, 3))
labels = tf.linalg.matvec(features, tf.constant([2.0, -3.4, 1.5])) + {bias}
w, b = tf.Variable(tf.zeros(3)), tf.Variable(0.0)
for step in range({steps}):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((tf.linalg.matvec(features, w) + b - labels) ** 2)
    dw, db = tape.gradient(loss, [w, b])
    w.assign_sub({rate} * dw)
    b.assign_sub({rate} * db)
print(f"loss after {steps} steps: {{float(loss):.4f}}")""",
    }[framework]


def cells(frameworks: list[str], make) -> str:
    return "\n\n".join(f"```{{.python .input}}\n#@tab {framework}\n{make(framework)}\n```"
                       for framework in frameworks)


def section_text(n: int, frameworks: list[str]) -> str:
    """Section ``n`` (from 1): both languages, a label, a reference to the section before it."""
    en, pt = "We build", "Construímos"
    if n > 1:
        en = f"As in :numref:`sec_synthetic_{n - 1}`, we build"
        pt = f"Como na :numref:`sec_synthetic_{n - 1}`, construímos"
    return f"""\
:begin_lang:`en`
# Synthetic Section {n}

{en} a tensor and fit a line to generated data, in every framework.
:end_lang:

:begin_lang:`pt`
# Seção sintética {n}

{pt} um tensor e ajustamos uma reta a dados gerados, em cada framework.
:end_lang:

:label:`sec_synthetic_{n}`

{cells(frameworks, imports)}

:begin_lang:`en`
## Tensors

The sum of each column and the mean of every entry.
:end_lang:

:begin_lang:`pt`
## Tensores

A soma de cada coluna e a média de todos os elementos.
:end_lang:

{cells(frameworks, lambda f: tensor_ops(f, n))}

:begin_lang:`en`
## Training

A few steps of gradient descent on a squared loss.
:end_lang:

:begin_lang:`pt`
## Treinamento

Alguns passos de gradiente descendente sobre uma perda quadrática.
:end_lang:

{cells(frameworks, lambda f: training(f, n))}
"""


# -- what a full-size d2lbook book brings (Shape.d2lbook) -------------------------------------------

# Works of the book's references.bib, cited by the generated sections.
CITED = ["Glorot.Bengio.2010", "He.Zhang.Ren.ea.2015", "Zhang.Lipton.Li.ea.2023", "Goodfellow.Bengio.Courville.2016"]


def section_frameworks(n: int, frameworks: list[str]) -> list[str]:
    """The frameworks section ``n`` has code for: real books lack TensorFlow in about a third of
    their sections and PyTorch in a few (framework gaps)."""
    return [f for f in frameworks if not (f == "tensorflow" and n % 3 == 0) and not (f == "pytorch" and n % 14 == 0)]


def figure_svg(n: int) -> str:
    """A loss curve of a few thousand points: a figure about as large as a real book's (tens of kB),
    different in every section, the same in every run."""
    points = " ".join(f"{x / 10:.1f},{200 - 180 * (0.5 + 0.5 * math.cos(x / (40 + n % 17))) * math.exp(-x / 900):.2f}"
                      for x in range(0, 4000))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200" viewBox="0 0 400 200">\n'
            f'<title>Loss of section {n}</title>\n<polyline fill="none" stroke="#1a6f8f" points="{points}"/>\n</svg>\n')


def figure(n: int, same_line: bool) -> str:
    """A labelled figure; half of them carry the label on the image's line, as some books do."""
    image = f"![The loss of section {n} falls with each step of gradient descent.](img/section-{n:03d}.svg)"
    return f"{image} :label:`fig_synthetic_{n}`" if same_line else f"{image}\n:label:`fig_synthetic_{n}`"


def settings_table(n: int) -> str:
    steps, rate = 10 + n % 15, 0.05 + (n % 5) / 100
    return f"""\
```eval_rst
.. list-table:: Settings of section {n}
   :header-rows: 1

   * - steps
     - learning rate
   * - {steps}
     - {rate:.2f}
```"""


def plain_section_text(n: int, frameworks: list[str]) -> str:
    """Section ``n`` as an untranslated d2lbook chapter: no language blocks, `$$` right after prose
    with its label, a figure labelled on its own line, a citation and an eval_rst table."""
    before = f"As in :numref:`sec_synthetic_{n - 1}`, we" if n > 1 else "We"
    return f"""\
# Synthetic Section {n}
:label:`sec_synthetic_{n}`

{before} fit a line to generated data. The loss is the mean squared error
$$L(w, b) = \\frac{{1}}{{m}} \\sum_{{i=1}}^m (w x_i + b - y_i)^2,$$
:eqlabel:`eq_synthetic_{n}`

which gradient descent lowers step by step :cite:`{CITED[n % len(CITED)]}`; :numref:`fig_synthetic_{n}`
shows how, and equation :eqref:`eq_synthetic_{n}` is what it computes.

{figure(n, same_line=n % 2 == 0)}

{settings_table(n)}

{cells(frameworks, imports)}

## Tensors

The sum of each column and the mean of every entry.

{cells(frameworks, lambda f: tensor_ops(f, n))}

## Training

A few steps of gradient descent on a squared loss, as :citet:`{CITED[(n + 1) % len(CITED)]}` describe it.

{cells(frameworks, lambda f: training(f, n))}
"""


def bilingual_d2lbook_extras(n: int) -> str:
    """What a bilingual section of the full-size book adds: a figure (its caption and alternative
    text in each language, the label after both), an equation and citations."""
    return f"""\
:begin_lang:`en`
![The loss of section {n} falls with each step of gradient descent.](img/section-{n:03d}.svg)
:alt:`A curve that falls steeply, then flattens out.`
:end_lang:

:begin_lang:`pt`
![A perda da seção {n} cai a cada passo do gradiente descendente.](img/section-{n:03d}.svg)
:alt:`Uma curva que cai rapidamente e depois se estabiliza.`
:end_lang:

:label:`fig_synthetic_{n}`

$$L_{{{n}}}(w, b) = \\frac{{1}}{{m}} \\sum_{{i=1}}^m (w x_i + b - y_i)^2$$
:eqlabel:`eq_synthetic_{n}`

:begin_lang:`en`
The loss of :eqref:`eq_synthetic_{n}` falls as :numref:`fig_synthetic_{n}` shows
:cite:`{CITED[n % len(CITED)]},{CITED[(n + 1) % len(CITED)]}`.
:end_lang:

:begin_lang:`pt`
A perda de :eqref:`eq_synthetic_{n}` cai como mostra a :numref:`fig_synthetic_{n}`
:cite:`{CITED[n % len(CITED)]},{CITED[(n + 1) % len(CITED)]}`.
:end_lang:
"""


def long_chapter(paragraphs: int = 5000, cells: int = 2000) -> str:
    """A long bilingual chapter with every construct the reader handles: paired language blocks
    with headings, labels, references, math and framework blocks, and code cells for every
    framework. Deterministic, so that every run measures the same text."""
    pairs = paragraphs // 2  # each English paragraph has its Portuguese twin
    parts: list[str] = []
    for cell in range(cells):
        section = cell % 50 == 0
        first, last = pairs * cell // cells, pairs * (cell + 1) // cells
        for lang, word in (("en", "Section"), ("pt", "Seção")):
            # The page's title is a level-1 heading, its sections level 2, as check asks.
            body = [f"{'#' if cell == 0 else '##'} {word} {cell}\n"] if section else []
            body += [f"Paragraph {n} ({lang}) refers to :numref:`sec_gen_0` and has $x_{{{n}}}$ inline math,\n"
                     f"wrapped over two lines with `code` in it.\n" for n in range(first, last)]
            if cell % 20 == 5:
                body.append(f":begin_tab:`pytorch`\nOnly PyTorch readers ({lang}) see this.\n:end_tab:\n")
            parts.append(f":begin_lang:`{lang}`\n" + "\n".join(body) + ":end_lang:\n")
        if section:
            parts.append(f":label:`sec_gen_{cell}`\n")
        if cell % 10 == 3:
            parts.append(f"$$y_{{{cell}}} = \\sum_i w_i x_i$$\n:eqlabel:`eq_gen_{cell}`\n")
        framework = ("mxnet", "pytorch", "tensorflow", "all")[cell % 4]
        parts.append(f"```{{.python .input}}\n#@tab {framework}\nvalue_{cell} = {cell} * 2\nprint(value_{cell})\n```\n")
    return "\n".join(parts)


def index_text(title_en: str, title_pt: str) -> str:
    return f"""\
:begin_lang:`en`
# {title_en}
:end_lang:

:begin_lang:`pt`
# {title_pt}
:end_lang:
"""


def write_book(root: Path, shape: Shape = Shape()) -> list[str]:
    """Write the book into ``root`` (an empty or missing folder); return its chapter names."""
    for name in COPIED:
        source, target = REPO / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)
    frameworks = list(yaml.safe_load((root / "_config.yml").read_text())["bookbuild"]["frameworks"])
    files = {"index": index_text("A Synthetic Book", "Um livro sintético")}
    toc_chapters = []
    per_chapter = shape.sections_per_chapter
    for first in range(1, shape.sections + 1, per_chapter):
        number = first // per_chapter + 1
        folder = f"chapter-{number:03d}"
        plain = shape.d2lbook and number % 4 == 0  # an untranslated chapter, as d2lbook writes one
        files[f"{folder}/index"] = f"# Chapter {number}\n" if plain else index_text(f"Chapter {number}",
                                                                                    f"Capítulo {number}")
        sections = []
        for n in range(first, min(first + per_chapter, shape.sections + 1)):
            if not shape.d2lbook:
                files[f"{folder}/section-{n:03d}"] = section_text(n, frameworks)
            elif plain:
                files[f"{folder}/section-{n:03d}"] = plain_section_text(n, section_frameworks(n, frameworks))
            else:
                files[f"{folder}/section-{n:03d}"] = (section_text(n, section_frameworks(n, frameworks)) + "\n"
                                                      + bilingual_d2lbook_extras(n))
            if shape.d2lbook:
                image = root / "chapters" / folder / "img" / f"section-{n:03d}.svg"
                image.parent.mkdir(parents=True, exist_ok=True)
                image.write_text(figure_svg(n), encoding="utf-8")
            sections.append({"file": f"chapters/{folder}/section-{n:03d}"})
        toc_chapters.append({"file": f"chapters/{folder}/index", "sections": sections})
    for name, text in files.items():
        path = root / "chapters" / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if shape.d2lbook:  # a book brought in as it is has framework gaps: warnings, not errors
        config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
        config["bookbuild"]["every_framework"] = False
        (root / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    toc = {"format": "jb-book", "root": "chapters/index", "options": {"numbered": True}, "chapters": toc_chapters}
    (root / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    confirm_translations(root)
    return sorted(files)


def confirm_translations(root: Path) -> None:
    """Record every chapter's translations in its lock file, as `bookbuild confirm` does for an
    author: the generated book's translated chapters are completely translated."""
    settings = load_settings(root)
    for path in chapter_files(settings)[0]:
        translation.confirm(read_chapter(path, settings), settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="an empty or missing folder")
    parser.add_argument("--sections", type=int, default=None, help=f"default {Shape.sections} ({FULL_SIZE.sections} "
                        "with --full-size)")
    parser.add_argument("--full-size", action="store_true", help="the shape of a real d2lbook book (FULL_SIZE)")
    args = parser.parse_args()
    if args.root.exists() and any(args.root.iterdir()):
        parser.error(f"{args.root} is not empty")
    shape = FULL_SIZE if args.full_size else Shape()
    if args.sections is not None:
        shape = replace(shape, sections=args.sections)
    chapters = write_book(args.root, shape)
    print(f"{args.root}: {len(chapters)} chapter files")


if __name__ == "__main__":
    main()
