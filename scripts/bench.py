"""Benchmark the build on a scratch copy of the book: how long each kind of rebuild takes, and
how many kernels it starts; how fast the reader is, on the book and on a generated chapter of
5,000 paragraphs and 2,000 code cells; and how a generated full-size d2lbook book previews (check,
notebooks without kernels, both HTML editions, a one-page edit, the site's size), against its
targets. Run with `make bench` (`--reader`: the reader's figures only; `--full-size`: the
full-size book's only); the committed notebooks are not touched."""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from synthetic_book import FULL_SIZE, write_book

from bookbuild import site
from bookbuild.build import build_notebooks, read_book
from bookbuild.nbval_run import notebooks_of
from bookbuild.settings import load_settings

REPO = Path(__file__).resolve().parent.parent
COPIED = ["_config.yml", "_toc.yml", "glossary.yml", "references.bib", "chapters", "envs", "tests/nbval-sanitize.cfg"]
EDITED = "chapters/deep-learning-computation/custom-layer.md"


def build(root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    settings = load_settings(root)
    report = build_notebooks(read_book(settings), settings, settings.notebooks_dir, log=lambda _: None)
    if report.failures:
        sys.exit("\n".join(report.failures))
    return time.perf_counter() - start, report.kernels_started


def edit(root: Path, pattern: str, replacement: str) -> None:
    """Change the first match of ``pattern`` in the benchmark's chapter."""
    path = root / EDITED
    text, count = re.subn(pattern, replacement, path.read_text(), count=1, flags=re.MULTILINE)
    assert count == 1, f"{pattern!r} not found in {EDITED}"
    path.write_text(text)


def timed(command: list[str], root: Path) -> float:
    """Seconds a command takes; its output is shown only if it fails."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed in {root}:\n{(result.stdout + result.stderr)[-4000:]}")
    return time.perf_counter() - start


def copy_book(root: Path) -> None:
    for name in COPIED:
        source, target = REPO / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)


def generated_chapter(paragraphs: int = 5000, cells: int = 2000) -> str:
    """A long bilingual chapter with every construct the reader handles: paired language blocks
    with headings, labels, references, math and framework blocks, and code cells for every
    framework. Deterministic, so that every run measures the same text."""
    pairs = paragraphs // 2  # each English paragraph has its Portuguese twin
    parts: list[str] = []
    for cell in range(cells):
        section = cell % 50 == 0
        first, last = pairs * cell // cells, pairs * (cell + 1) // cells
        for lang, word in (("en", "Section"), ("pt", "Seção")):
            body = [f"## {word} {cell}\n"] if section else []
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


def timed_cpu(command: list[str], root: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of a command: on a shared machine the CPU time
    varies far less with the load than the wall-clock time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(command, root)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best_of(commands: list[list[str]], root: Path) -> tuple[float, float]:
    runs = [timed_cpu(command, root) for command in commands]
    return min(wall for wall, _ in runs), min(cpu for _, cpu in runs)


def reader_rows(bookbuild: str) -> list[tuple[str, tuple[float, float]]]:
    """`check` and `convert --no-execute`, as an author runs them, on the book and on a generated
    chapter (added to a scratch copy of the book); the best of three runs, each converting into a
    new folder."""
    def convert(chapter: str) -> list[list[str]]:
        return [[bookbuild, "convert", chapter, "--out", f"out-{run}", "--no-execute"] for run in range(3)]

    check = [[bookbuild, "check"]] * 3
    with tempfile.TemporaryDirectory(prefix="bookbuild-bench-") as scratch:
        root = Path(scratch)
        copy_book(root)
        rows = [("check, the book", best_of(check, root)),
                ("convert --no-execute, custom-layer.md",
                 best_of(convert("chapters/deep-learning-computation/custom-layer.md"), root))]
        (root / "chapters/generated.md").write_text(generated_chapter())
        with (root / "_toc.yml").open("a") as toc:
            toc.write("  - file: chapters/generated\n")
        # Its translations recorded in a lock file, as an author's `bookbuild confirm` leaves them.
        subprocess.run([bookbuild, "confirm", "chapters/generated.md"], cwd=root, check=True, capture_output=True)
        rows.append(("check, the book + generated chapter", best_of(check, root)))
        rows.append(("convert --no-execute, generated chapter", best_of(convert("chapters/generated.md"), root)))
    return rows


def tree_bytes(folder: Path) -> int:
    """Bytes of the files below a folder, each file once (the site's hard links count once, as a
    copy or an upload of it would hold them)."""
    seen, total = set(), 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            status = path.stat()
            if (status.st_dev, status.st_ino) not in seen:
                seen.add((status.st_dev, status.st_ino))
                total += status.st_size
    return total


def verdict(name: str, value: float, target: float, unit: str = "") -> str:
    return f"{name}: {value:.2f}{unit} (target <= {target}{unit}): {'met' if value <= target else 'NOT MET'}"


def full_size_bench(bookbuild: str, scratch: Path) -> list[str]:
    """A generated full-size d2lbook book (FULL_SIZE: 160 sections, figures, citations, framework
    gaps, untranslated chapters), previewed as a new author would: check, notebooks without
    kernels, both HTML editions (cold, at once, and one edition alone for comparison), a one-page
    edit, and the size of the site against a single edition's."""
    root = scratch / "full-size"
    write_book(root, FULL_SIZE)
    subprocess.run([bookbuild, "confirm"], cwd=root, check=True, capture_output=True)
    rows = [("check (best of 3)", best_of([[bookbuild, "check"]] * 3, root)),
            ("notebooks --no-execute, cold", timed_cpu([bookbuild, "notebooks", "--no-execute"], root))]
    print_row(*rows[-2])
    print_row(*rows[-1])
    # One edition alone, cold: its sources, then Sphinx, as `html` runs it for each edition.
    settings = load_settings(root)
    alone = scratch / "one-edition"
    start = time.perf_counter()
    site.write_edition(read_book(settings), settings, "en", alone / "source", preview=True)
    write_s = time.perf_counter() - start
    wall, cpu = timed_cpu([str(Path(sys.executable).parent / "jupyter-book"), "build", str(alone / "source"),
                           "--path-output", str(alone / "output"), "--warningiserror", "--nitpick", "--keep-going",
                           "--quiet"], root)
    rows.append(("html, one edition alone, cold", (wall + write_s, cpu + write_s)))
    print_row(*rows[-1])
    rows.append(("html --preview, both editions, cold", timed_cpu([bookbuild, "html", "--preview"], root)))
    print_row(*rows[-1])
    section = root / "chapters/chapter-004/section-035.md"
    section.write_text(section.read_text(encoding="utf-8").replace("we fit a line", "we fit a straight line", 1),
                       encoding="utf-8")
    rows.append(("html --preview after a one-page edit", timed_cpu([bookbuild, "html", "--preview"], root)))
    print_row(*rows[-1])
    site_bytes = tree_bytes(root / "_build" / "html")
    edition_bytes = tree_bytes(alone / "output" / "_build" / "html")
    print(f"site {site_bytes / 1e6:.1f} MB (both editions), one edition alone {edition_bytes / 1e6:.1f} MB")
    times = {name: wall for name, (wall, _) in rows}
    return [
        verdict("check", times["check (best of 3)"], 2.0, " s"),
        verdict("notebooks --no-execute", times["notebooks --no-execute, cold"], 10.0, " s"),
        verdict("both editions / one edition, cold", times["html --preview, both editions, cold"]
                / times["html, one edition alone, cold"], 1.2),
        verdict("one-page edit", times["html --preview after a one-page edit"], 15.0, " s"),
        verdict("site / one edition, size", site_bytes / edition_bytes, 1.2),
    ]


def print_row(step: str, figures: tuple[float, float]) -> None:
    print(f"{step:40} {figures[0]:8.2f} {figures[1]:8.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--reader", action="store_true", help="only the reader's figures (check, convert)")
    parser.add_argument("--full-size", action="store_true", help="only the generated full-size book's figures")
    args = parser.parse_args()
    bookbuild = str(Path(sys.executable).parent / "bookbuild")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start")
    if not args.full_size:
        print(f"{'reader (best of 3 runs)':40} {'seconds':>8} {'CPU s':>8}")
        for step, (wall, cpu) in reader_rows(bookbuild):
            print(f"{step:40} {wall:8.2f} {cpu:8.2f}")
    if args.reader:
        return
    if not args.full_size:
        print()
        book_rows(bookbuild)
    print(f"\nA generated full-size book ({FULL_SIZE.sections} sections, no kernel)\n"
          f"{'step':40} {'seconds':>8} {'CPU s':>8}")
    with tempfile.TemporaryDirectory(prefix="bookbuild-bench-") as scratch:
        verdicts = full_size_bench(bookbuild, Path(scratch))
    for line in verdicts:
        print(line)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")


def book_rows(bookbuild: str) -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bookbuild-bench-") as scratch:
        root = Path(scratch)
        copy_book(root)
        rows.append(("cold notebook build", *build(root)))
        rows.append(("no-op rebuild", *build(root)))
        edit(root, r"^(:begin_lang:`pt`\n#.*\n)", r"\1Uma frase nova.\n")
        rows.append(("prose-only edit (pt)", *build(root)))
        edit(root, r"^(#@tab pytorch\n)", r"\1# an edited cell\n")
        rows.append(("one-cell code edit (pytorch)", *build(root)))
        rows.append(("make html (both editions)", timed([bookbuild, "html"], root), 0))
        settings = load_settings(root)
        kernels = sum(len(notebooks_of(settings, name)) for name in settings.framework_names)
        rows.append(("nbval over every notebook", timed([bookbuild, "test-notebooks"], root), kernels))
    print(f"{'step':32} {'seconds':>8} {'kernels':>8}")
    for step, seconds, kernels in rows:
        print(f"{step:32} {seconds:8.1f} {kernels:8d}")
    print("(nbval starts one kernel per notebook that has code)")


if __name__ == "__main__":
    main()
