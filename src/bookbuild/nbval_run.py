"""Re-run every notebook with nbval, each framework on its own CPU kernel.

nbval executes every cell and compares its outputs with the committed ones, after the sanitizer in
tests/nbval-sanitize.cfg has masked what is legitimately volatile (memory addresses, timings).
"""

from __future__ import annotations

import subprocess
import sys

import nbformat

from . import envs
from .settings import Settings

SANITIZER = "tests/nbval-sanitize.cfg"


def notebooks_of(settings: Settings, framework: str) -> list[str]:
    """The framework's notebooks that hold code (a prose-only page has nothing to run)."""
    found = []
    for path in sorted(settings.notebooks_dir.glob(f"*/{framework}/**/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        if any(cell.cell_type == "code" for cell in notebook.cells):
            found.append(str(path.relative_to(settings.root)))
    return found


def ignored_output_cells(paths: list[str]) -> int:
    return sum(
        "nbval-ignore-output" in cell.metadata.get("tags", [])
        for path in paths
        for cell in nbformat.read(path, as_version=4).cells
    )


def run_nbval(settings: Settings, frameworks: list[str], pytest_args: list[str]) -> int:
    failed = []
    for name in frameworks:
        kernel = envs.ensure_kernel(settings.framework(name))
        paths = notebooks_of(settings, name)
        print(f"== nbval [{name}] on kernel {kernel}: {len(paths)} notebooks, "
              f"{ignored_output_cells(paths)} cells with outputs not compared (#@varies)", flush=True)
        command = [sys.executable, "-m", "pytest", "--nbval", "--nbval-kernel-name", kernel,
                   "--nbval-sanitize-with", SANITIZER, "-q", *pytest_args, *paths]
        if subprocess.run(command, cwd=settings.root).returncode != 0:
            failed.append(name)
    if failed:
        print(f"nbval failed for: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
