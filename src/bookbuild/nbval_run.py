"""Re-run every notebook with nbval, each framework on its own CPU (or GPU) kernel.

nbval executes every cell and compares its outputs with the committed ones, after the sanitizer in
tests/nbval-sanitize.cfg has masked what is legitimately volatile (memory addresses, timings). On
the GPU kernels tests/nbval-sanitize-gpu.cfg also masks the device in reprs (`device='cuda:0'`):
nbval takes a single sanitizer file, so a GPU run gets the two concatenated in a temporary file.

Image outputs (the book's plots) are compared by their text part only: nbval compares every other
part of an output, but not PNG data unless it runs with nbdime. That is the book's rule, not an
accident: the text part of a plot is its description in the reader's language, which must match;
its pixels come from floating-point values whose last digits differ between CPUs and GPUs, so equal
plots are not equal bytes across machines. What a plot shows is asserted in the cell that draws it
(the loss falls below a bound). Rebuilding on one machine does give the same bytes, which
tests/test_plots.py checks. The run counts these outputs, as it counts the #@varies cells.

A GPU run never builds a GPU environment (several GB each); a framework without one is reported
as NOT TESTED, by name, and the exit status says that the run was incomplete.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from . import envs
from .library import kernel_environment
from .settings import Settings

SANITIZER = "tests/nbval-sanitize.cfg"
GPU_SANITIZER = "tests/nbval-sanitize-gpu.cfg"
INCOMPLETE = 3  # exit status: nothing failed, but some requested framework was not tested


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


IMAGE_MIMES = ("image/png", "image/jpeg")  # nbval leaves these out of its comparison (without nbdime)


def image_outputs(paths: list[str]) -> int:
    """Outputs whose image nbval does not compare (only their text part), as the module explains."""
    return sum(any(mime in output.get("data", {}) for mime in IMAGE_MIMES)
               for path in paths for cell in nbformat.read(path, as_version=4).cells
               for output in cell.get("outputs", []))


def sanitizer_text(root: Path, device: str) -> str:
    """The CPU sanitizer, followed on a GPU run by the GPU entries (applied in that order)."""
    files = [SANITIZER] if device == "cpu" else [SANITIZER, GPU_SANITIZER]
    return "\n".join((root / name).read_text() for name in files)


def summary(device: str, passed: list[str], failed: list[str], not_tested: list[str]) -> str:
    parts = [f"{', '.join(names)} {verdict}" for names, verdict in
             ((passed, "passed"), (failed, "FAILED"), (not_tested, "NOT TESTED")) if names]
    return f"nbval on the {device.upper()} kernels: " + "; ".join(parts)


def exit_status(failed: list[str], not_tested: list[str]) -> int:
    return 1 if failed else INCOMPLETE if not_tested else 0


def run_nbval(settings: Settings, frameworks: list[str], pytest_args: list[str], device: str = "cpu") -> int:
    passed: list[str] = []
    failed: list[str] = []
    not_tested: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        sanitizer = Path(tmp) / "nbval-sanitize.cfg"
        sanitizer.write_text(sanitizer_text(settings.root, device))
        for name in frameworks:
            framework = settings.framework(name)
            paths = notebooks_of(settings, name)
            if device == "gpu" and envs.installed_python(framework, device) is None:
                print(f"== nbval [{name}] on the GPU: NOT TESTED, {len(paths)} notebooks not run: no GPU "
                      f"environment (`make envs-gpu FRAMEWORK={name}`, or set "
                      f"{envs.external_python_variable(framework)}; see docs/gpu.md)", flush=True)
                not_tested.append(name)
                continue
            kernel = envs.ensure_kernel(framework, device=device)
            print(f"== nbval [{name}] on kernel {kernel}: {len(paths)} notebooks, "
                  f"{ignored_output_cells(paths)} cells with outputs not compared (#@varies), "
                  f"{image_outputs(paths)} images compared by their text part only", flush=True)
            command = [sys.executable, "-m", "pytest", "--nbval", "--nbval-kernel-name", kernel,
                       "--nbval-sanitize-with", str(sanitizer), "-q", *pytest_args, *paths]
            # The kernels import the book's library of this checkout (see library.kernel_environment).
            ok = subprocess.run(command, cwd=settings.root, env=kernel_environment(settings)).returncode == 0
            (passed if ok else failed).append(name)
    print(summary(device, passed, failed, not_tested), file=sys.stderr if failed or not_tested else sys.stdout)
    if not_tested and not failed:
        print(f"not every framework was tested: exit status {INCOMPLETE}", file=sys.stderr)
    return exit_status(failed, not_tested)
