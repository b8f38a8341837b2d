"""Benchmark the build on a scratch copy of the book: how long each kind of rebuild takes, and
how many kernels it starts. Run with `make bench`; the committed notebooks are not touched."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bookbuild.build import build_notebooks, read_book
from bookbuild.nbval_run import notebooks_of
from bookbuild.settings import load_settings

REPO = Path(__file__).resolve().parent.parent
COPIED = ["_config.yml", "_toc.yml", "glossary.yml", "chapters", "envs", "tests/nbval-sanitize.cfg"]
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
    start = time.perf_counter()
    subprocess.run(command, cwd=root, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    bookbuild = str(Path(sys.executable).parent / "bookbuild")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bookbuild-bench-") as scratch:
        root = Path(scratch)
        for name in COPIED:
            source, target = REPO / name, root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)
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
