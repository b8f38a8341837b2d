"""Benchmarks behind `make bench`: how long each kind of build takes, how many kernels it starts and
how much memory it needs; and how fast the reader is, on the book and on a generated chapter of
5,000 paragraphs and 2,000 code cells. The committed notebooks are never touched: every step runs
on a scratch copy of the book, or on a generated book, in a temporary folder.

    python scripts/bench.py                 # all of it: the reader, this book's chapter, the generated books
    python scripts/bench.py --quick         # the reader and this book's chapter
    python scripts/bench.py --reader        # the reader's figures only
    python scripts/bench.py --sections 12   # a smaller generated book, to try the benchmark out
    python scripts/bench.py --full-size     # only the generated full-size d2lbook book, previewed

The full-size book (synthetic_book.FULL_SIZE: 160 sections, figures, citations, framework gaps,
untranslated chapters) is previewed as a new author would, with no kernel: check, notebooks
without kernels, both HTML editions cold against one edition alone, a one-page edit, and the
site's size against a single edition's, each against its target.

Every step is the command a user types (`bookbuild notebooks`, `test-notebooks`, `html`), run as
a process of its own, so its time includes starting Python. Peak memory is the largest sum of the
resident memory of the command and every process under it (kernels, pytest workers, Sphinx),
sampled every 0.2 s. CPU seconds are the user and system time of that process tree: the work done,
whatever else the machine was doing (on a busy machine, compare those). The d2lbook figure runs
d2lbook 1.0.3 (envs/d2lbook.txt) on the generated book's Portuguese/PyTorch notebooks, with
d2lbook's own scheduler (2 CPU workers).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from synthetic_book import FULL_SIZE, Shape, long_chapter, write_book

from bookbuild import envs, site
from bookbuild.build import build_notebooks, read_book
from bookbuild.settings import load_settings

REPO = Path(__file__).resolve().parent.parent
BOOKBUILD = str(Path(sys.executable).parent / "bookbuild")
COPIED = ["_config.yml", "_toc.yml", "glossary.yml", "references.bib", "chapters", "envs", "tests/nbval-sanitize.cfg"]
EDITED = "chapters/deep-learning-computation/custom-layer.md"


@dataclass
class Step:
    name: str
    seconds: float
    kernels: int | None = None
    peak_mb: int | None = None
    note: str = ""
    cpu_s: float | None = None  # user + system time of the command and everything under it

    def row(self) -> str:
        def shown(value, form: str) -> str:
            return "" if value is None else format(value, form)

        return (f"{self.name:38} {self.seconds:8.1f} {shown(self.cpu_s, '.1f'):>8} {shown(self.kernels, 'd'):>8} "
                f"{shown(self.peak_mb, 'd'):>8}  {self.note}").rstrip()


HEADER = f"{'step':38} {'seconds':>8} {'CPU s':>8} {'kernels':>8} {'peak MB':>8}  note"


# --- measuring ----------------------------------------------------------------------------------


def tree_rss_mb(root: int) -> int:
    """Resident memory of ``root`` and every process below it, in MB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total // 2**20


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, str, int | None, float]:
    """Run a command; return its seconds, its output, the peak memory of its process tree and the
    CPU seconds of that tree (every process in it is waited for by its parent, so all count)."""
    cpu = children_cpu()
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], tree_rss_mb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    if Path("/proc").exists():
        sampler.start()
    output, _ = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed in {cwd}:\n{output[-4000:]}")
    return seconds, output, peak[0] or None, children_cpu() - cpu


def bookbuild(name: str, root: Path, *arguments: str, kernels: int | None = None) -> Step:
    seconds, output, peak, cpu = run([BOOKBUILD, *arguments], root)
    if kernels is None:
        started = re.search(r"(\d+) kernels started", output)
        notebooks = re.search(r"^== (\d+) notebooks", output, re.MULTILINE)
        kernels = int(started[1]) if started else int(notebooks[1]) if notebooks else 0
    return shown(Step(name, seconds, kernels, peak, cpu_s=cpu))


def shown(step: Step) -> Step:
    """Print a step as soon as it is measured: a long benchmark shows its figures as it goes."""
    if not step.name.startswith("("):
        print(step.row(), flush=True)
    return step


def edit(path: Path, pattern: str, replacement: str) -> None:
    """Change the first match of ``pattern`` in a chapter."""
    text, count = re.subn(pattern, replacement, path.read_text(), count=1, flags=re.MULTILINE)
    assert count == 1, f"{pattern!r} not found in {path}"
    path.write_text(text)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "notebooks").rglob("*.ipynb"))}


def clear_notebooks(root: Path) -> None:
    """Remove the notebooks, keeping the timings record a checkout would have."""
    for path in (root / "notebooks").rglob("*.ipynb"):
        path.unlink()


# --- this book's chapter ------------------------------------------------------------------------


def copy_book(root: Path) -> None:
    for name in COPIED:
        source, target = REPO / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)


def best_of(commands: list[list[str]], root: Path) -> tuple[float, float]:
    """The least wall-clock and CPU seconds of the commands (on a shared machine the CPU time varies
    far less with the load than the wall-clock time)."""
    measured = [run(command, root) for command in commands]
    return min(m[0] for m in measured), min(m[3] for m in measured)


def reader_rows() -> list[tuple[str, tuple[float, float]]]:
    """`check` and `convert --no-execute`, as an author runs them, on the book and on a generated
    chapter (added to a scratch copy of the book); the best of three runs, each converting into a
    new folder."""
    def convert(chapter: str) -> list[list[str]]:
        return [[BOOKBUILD, "convert", chapter, "--out", f"out-{run}", "--no-execute"] for run in range(3)]

    check = [[BOOKBUILD, "check"]] * 3
    with tempfile.TemporaryDirectory(prefix="bookbuild-bench-") as scratch:
        root = Path(scratch)
        copy_book(root)
        rows = [("check, the book", best_of(check, root)),
                ("convert --no-execute, custom-layer.md",
                 best_of(convert("chapters/deep-learning-computation/custom-layer.md"), root))]
        (root / "chapters/generated.md").write_text(long_chapter())
        with (root / "_toc.yml").open("a") as toc:
            toc.write("  - file: chapters/generated\n")
        # Its translations recorded in a lock file, as an author's `bookbuild confirm` leaves them.
        subprocess.run([BOOKBUILD, "confirm", "chapters/generated.md"], cwd=root, check=True, capture_output=True)
        rows.append(("check, the book + generated chapter", best_of(check, root)))
        rows.append(("convert --no-execute, generated chapter", best_of(convert("chapters/generated.md"), root)))
    return rows


def chapter_bench(scratch: Path) -> list[Step]:
    root = scratch / "chapter"
    copy_book(root)
    steps = [bookbuild("cold notebook build", root, "notebooks"),
             bookbuild("no-op rebuild", root, "notebooks")]
    edit(root / EDITED, r"^(:begin_lang:`pt`\n#.*\n)", r"\1Uma frase nova.\n")
    steps.append(bookbuild("prose-only edit (pt)", root, "notebooks"))
    edit(root / EDITED, r"^(#@tab pytorch\n)", r"\1# an edited cell\n")
    steps.append(bookbuild("one-cell code edit (pytorch)", root, "notebooks"))
    steps.append(bookbuild("make html (both editions)", root, "html", kernels=0))
    steps.append(bookbuild("nbval over every notebook", root, "test-notebooks"))
    return steps


# --- a generated book ---------------------------------------------------------------------------


def convert_all(root: Path) -> Step:
    """Read, check and write every notebook without executing (in this process)."""
    start = time.perf_counter()
    settings = load_settings(root)
    report = build_notebooks(read_book(settings), settings, root / "_build" / "converted", execute_code=False,
                             log=lambda message: None)
    return shown(Step("convert: every notebook, unexecuted", time.perf_counter() - start, report.kernels_started,
                      note=f"{len(report.written)} notebooks, in-process"))


def d2lbook_source(notebook: nbformat.NotebookNode) -> str:
    """A notebook as d2lbook markdown: prose as it is, code in d2lbook's input cells."""
    parts = []
    for cell in notebook.cells:
        parts.append(cell.source if cell.cell_type == "markdown" else f"```{{.python .input}}\n{cell.source}\n```")
    return "\n\n".join(parts) + "\n"


def d2lbook_bench(root: Path, scratch: Path) -> Step | None:
    """d2lbook's `build eval` over the Portuguese/PyTorch notebooks, on the PyTorch kernel."""
    requirements = REPO / "envs" / "d2lbook.txt"
    env = envs.env_dir("d2lbook", requirements)
    settings = load_settings(root)
    framework = settings.framework("pytorch")
    kernel_python = envs.installed_python(framework, "cpu")
    if not (env / ".complete").exists() or kernel_python is None:
        print("d2lbook comparison skipped: `make unit` builds the d2lbook environment, `make envs` the kernels")
        return None
    source = scratch / "d2lbook" / "src"
    notebooks = sorted((root / "notebooks" / "pt" / "pytorch").rglob("*.ipynb"))
    for path in notebooks:
        target = source / path.relative_to(root / "notebooks" / "pt" / "pytorch").with_suffix(".md")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(d2lbook_source(nbformat.read(path, as_version=4)))
    (source / "config.ini").write_text("[project]\nname = synthetic\n\n[build]\nindex = index\nnotebooks = **/*.md\n")
    # d2lbook runs every notebook on the `python3` kernel: here, the PyTorch environment's.
    spec = scratch / "d2lbook" / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    kernelspec = envs.kernelspec(framework, "cpu", kernel_python, spec)
    (spec / "kernel.json").write_text(json.dumps({**kernelspec, "display_name": "Python 3"}))
    seconds, _, peak, cpu = run([str(envs.python_of(env)), "-m", "d2lbook.main", "build", "eval"], source,
                                env={"JUPYTER_PATH": str(scratch / "d2lbook" / "jupyter")})
    return shown(Step("d2lbook build eval (pt, pytorch)", seconds, len(notebooks), peak,
                      "d2lbook's scheduler, 2 CPU workers; it also starts kernels for pages without code", cpu))


def book_bench(scratch: Path, sections: int, with_d2lbook: bool) -> tuple[list[Step], list[str]]:
    root = scratch / "synthetic"
    write_book(root, Shape(sections=sections))
    section = sorted((root / "chapters").rglob("section-*.md"))[sections // 2]
    steps = [bookbuild("check", root, "check", kernels=0), convert_all(root)]
    cold1 = bookbuild("cold build -j 1", root, "notebooks", "-j", "1")
    first = snapshot(root)
    clear_notebooks(root)
    cold2 = bookbuild("cold build -j 2", root, "notebooks", "-j", "2")
    identical = snapshot(root) == first
    noop = bookbuild("no-op rebuild", root, "notebooks")
    steps += [cold1, cold2, noop]
    edit(section, r"^(:begin_lang:`pt`\n#.*\n)", r"\1Uma frase nova.\n")
    steps.append(bookbuild("prose-only edit (pt)", root, "notebooks"))
    edit(section, r"^(#@tab pytorch\nimport torch)", r"\1  # an edited cell")
    steps.append(bookbuild("one-cell code edit (pytorch)", root, "notebooks"))
    nbval1 = bookbuild("nbval, 1 worker", root, "test-notebooks", "-j", "1")
    nbval2 = bookbuild("nbval, 2 workers", root, "test-notebooks", "-j", "2")
    steps += [nbval1, nbval2]
    html_cold = bookbuild("html, cold (both editions)", root, "html", kernels=0)
    edit(section, r"^(:begin_lang:`en`\n#.*\n)", r"\1A new sentence.\n")
    bookbuild("(notebooks after the prose edit)", root, "notebooks")
    html_edit = bookbuild("html after a one-page prose edit", root, "html", kernels=0)
    steps += [html_cold, html_edit]
    if with_d2lbook:
        ours = scratch / "pytorch-only"
        write_book(ours, Shape(sections=sections))
        steps.append(bookbuild("bookbuild notebooks pytorch -j 2", ours, "notebooks", "pytorch", "-j", "2"))
        found = d2lbook_bench(ours, scratch)
        if found:
            steps.append(found)
    verdicts = [
        verdict("cold -j 2 / -j 1", cold2.seconds / cold1.seconds, 0.6),
        f"cold -j 2 notebooks byte-identical to -j 1: {'yes' if identical else 'NO'}",
        verdict("nbval 2 workers / 1", nbval2.seconds / nbval1.seconds, 0.6),
        verdict("no-op seconds", noop.seconds, 1.5) + f", {noop.kernels} kernels (target 0)",
        verdict("html after a prose edit / cold", html_edit.seconds / html_cold.seconds, 0.5),
        verdict("peak memory at -j 2, GB", (cold2.peak_mb or 0) / 1024, 8.0, strict=True),
    ]
    return steps, verdicts


# --- a generated full-size d2lbook book, previewed -----------------------------------------------


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


def full_size_bench(scratch: Path) -> list[str]:
    """The full-size book previewed: check, notebooks without kernels, both HTML editions (cold, at
    once, against one edition alone), a one-page edit, and the site's size against one edition's."""
    root = scratch / "full-size"
    write_book(root, FULL_SIZE)
    wall, cpu = best_of([[BOOKBUILD, "check"]] * 3, root)
    check = shown(Step("check (best of 3)", wall, 0, cpu_s=cpu))
    notebooks = bookbuild("notebooks --no-execute, cold", root, "notebooks", "--no-execute", kernels=0)
    # One edition alone, cold: its sources, then Sphinx, as `html` runs it for each edition.
    settings = load_settings(root)
    alone = scratch / "one-edition"
    start = time.perf_counter()
    site.write_edition(read_book(settings), settings, "en", alone / "source", preview=True)
    written = time.perf_counter() - start
    seconds, _, peak, cpu = run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(alone / "source"),
                                 "--path-output", str(alone / "output"), "--warningiserror", "--nitpick",
                                 "--keep-going", "--quiet"], root)
    one = shown(Step("html, one edition alone, cold", seconds + written, 0, peak, cpu_s=cpu + written))
    both = bookbuild("html --preview, both editions, cold", root, "html", "--preview", kernels=0)
    section = root / "chapters/chapter-004/section-035.md"
    edit(section, "we fit a line", "we fit a straight line")
    edited = bookbuild("html --preview after a one-page edit", root, "html", "--preview", kernels=0)
    site_bytes = tree_bytes(root / "_build" / "html")
    edition_bytes = tree_bytes(alone / "output" / "_build" / "html")
    print(f"site {site_bytes / 1e6:.1f} MB (both editions), one edition alone {edition_bytes / 1e6:.1f} MB")
    return [
        verdict("check, seconds", check.seconds, 2.0),
        verdict("notebooks --no-execute, seconds", notebooks.seconds, 10.0),
        verdict("both editions / one edition, cold", both.seconds / one.seconds, 1.2),
        verdict("one-page edit, seconds", edited.seconds, 15.0),
        verdict("site / one edition, size", site_bytes / edition_bytes, 1.2),
    ]


def verdict(name: str, value: float, target: float, strict: bool = False) -> str:
    met = value < target if strict else value <= target
    return f"{name}: {value:.2f} (target {'<' if strict else '<='} {target}): {'met' if met else 'NOT MET'}"


def section(title: str) -> None:
    print(f"\n{title}\n{HEADER}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reader", action="store_true", help="only the reader's figures (check, convert)")
    parser.add_argument("--quick", action="store_true", help="the reader and this book's chapter, no generated book")
    parser.add_argument("--sections", type=int, default=120, help="sections of the generated book (default 120)")
    parser.add_argument("--no-d2lbook", action="store_true", help="skip the d2lbook comparison")
    parser.add_argument("--full-size", action="store_true", help="only the generated full-size book, previewed")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{cores} cores; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start")
    if not args.full_size:
        print(f"\n{'reader (best of 3 runs)':40} {'seconds':>8} {'CPU s':>8}")
        for step, (wall, cpu) in reader_rows():
            print(f"{step:40} {wall:8.2f} {cpu:8.2f}", flush=True)
    if args.reader:
        return
    with tempfile.TemporaryDirectory(prefix="bookbuild-bench-") as tmp:
        if not args.full_size:
            section("This book's chapter (bookbuild's default -j: the cores)")
            chapter_bench(Path(tmp))
        if not args.quick and not args.full_size:
            section(f"A generated book: {args.sections} sections x 3 frameworks x 2 languages")
            _, verdicts = book_bench(Path(tmp), args.sections, not args.no_d2lbook)
            print()
            for line in verdicts:
                print(line)
        if not args.quick:
            section(f"A generated full-size d2lbook book: {FULL_SIZE.sections} sections, previewed (no kernel)")
            verdicts = full_size_bench(Path(tmp))
            print()
            for line in verdicts:
                print(line)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")
    print("(nbval starts one kernel per notebook that has code; the kernels of a build are its "
          "(section, framework) pairs that ran)")


if __name__ == "__main__":
    main()
