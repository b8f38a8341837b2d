"""Re-run every notebook with nbval, on the CPU (or GPU) kernels, several notebooks at once.

nbval executes every cell and compares its outputs with the committed ones, after the sanitizer in
tests/nbval-sanitize.cfg has masked what is legitimately volatile (memory addresses, timings). On
the GPU kernels tests/nbval-sanitize-gpu.cfg also masks the device in reprs (`device='cuda:0'`):
nbval takes a single sanitizer file, so a GPU run gets the two concatenated in a temporary file.

One pytest run covers every framework: pytest-xdist spreads the notebooks over the workers, each
notebook whole on one worker (``--dist loadfile``), longest first, and each notebook starts the
kernel its metadata names. The scheduler picks the workers and, with a shard, the notebooks.

Image outputs (the book's plots) are compared by their text part only: nbval compares every other
part of an output, but not PNG data unless it runs with nbdime. That is the book's rule, not an
accident: the text part of a plot is its description in the reader's language, which must match;
its pixels come from floating-point values whose last digits differ between CPUs and GPUs, so equal
plots are not equal bytes across machines. What a plot shows is asserted in the cell that draws it
(the loss falls below a bound). Rebuilding on one machine does give the same bytes, which
tests/test_plots.py checks. The run counts these outputs, as it counts the #@varies cells.

The kernels import the book's library of this checkout (see library.kernel_environment).

A GPU run never builds a GPU environment (several GB each); a framework without one is reported
as NOT TESTED, by name, and the exit status says that the run was incomplete.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import envs, notebooks, progress, schedule
from .build import read_book
from .files import notebook_path
from .library import kernel_environment
from .model import Chapter
from .nbval_plugin import EVENTS_FD
from .schedule import Pair, Shard, Timings
from .settings import Settings

SANITIZER = "tests/nbval-sanitize.cfg"
GPU_SANITIZER = "tests/nbval-sanitize-gpu.cfg"
INCOMPLETE = 3  # exit status: nothing failed, but some requested framework was not tested


@dataclass(frozen=True)
class Target:
    """One committed notebook to re-run: its path from the book's root, its pair and its cells."""

    path: str
    pair: Pair
    cells: int
    ignored: int  # cells whose outputs are not compared (#@varies)
    images: int = 0  # image outputs compared by their text part only

    @property
    def name(self) -> str:
        """`pt/pytorch/chapter/section`, as the progress display shows it."""
        return self.path.removeprefix("notebooks/").removesuffix(".ipynb")


def targets(pairs: Sequence[Pair], settings: Settings) -> tuple[list[Target], list[str]]:
    """The committed notebooks of the pairs that hold code (a prose-only page has nothing to run),
    and those that should exist and do not."""
    found, missing = [], []
    for pair in pairs:
        for lang in settings.language_codes:
            path = notebook_path(settings.notebooks_dir, lang, pair.framework.name, pair.chapter)
            notebook = notebooks.load(path)
            code = [cell for cell in notebook.cells if cell.cell_type == "code"] if notebook else []
            shown = path.relative_to(settings.root).as_posix()
            if code:
                ignored = sum("nbval-ignore-output" in cell.metadata.get("tags", []) for cell in code)
                found.append(Target(shown, pair, len(code), ignored, image_outputs(code)))
            elif notebook is None and pair.cells:
                missing.append(shown)
    return found, missing


IMAGE_MIMES = ("image/png", "image/jpeg")  # nbval leaves these out of its comparison (without nbdime)


def image_outputs(cells: Sequence) -> int:
    """Outputs whose image nbval does not compare (only their text part), as the module explains."""
    return sum(any(mime in output.get("data", {}) for mime in IMAGE_MIMES)
               for cell in cells for output in cell.get("outputs", []))


def notebooks_of(settings: Settings, framework: str) -> list[str]:
    """Every committed notebook of the framework that holds code, whatever chapter made it."""
    found = []
    for path in sorted(settings.notebooks_dir.glob(f"*/{framework}/**/*.ipynb")):
        notebook = notebooks.load(path)
        if notebook is not None and any(cell.cell_type == "code" for cell in notebook.cells):
            found.append(str(path.relative_to(settings.root)))
    return found


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


class Outcomes:
    """What the plugin's events say: per notebook, the cells done and whether one failed."""

    def __init__(self, chosen: Sequence[Target], shown: progress.Display) -> None:
        self.by_path = {target.path: target for target in chosen}
        self.shown = shown
        self.done: dict[str, int] = {}
        self.failed: set[str] = set()
        self.finished: set[str] = set()

    def handle(self, event: dict) -> None:
        target = self.by_path.get(event["nodeid"].split("::")[0])
        if target is None:
            return
        if event["event"] == "start":
            if target.path not in self.done:
                self.done[target.path] = 0
                self.shown.start(target.name)
            return
        if event["outcome"] == "failed":
            self.failed.add(target.path)
        if event["when"] == "call" or (event["when"] == "setup" and event["outcome"] != "passed"):
            self.done[target.path] = self.done.get(target.path, 0) + 1
            self.shown.advance(target.name, self.done[target.path] / target.cells,
                               f"cell {self.done[target.path]}/{target.cells}")
        if self.done.get(target.path) == target.cells and target.path not in self.finished:
            self.finished.add(target.path)
            self.shown.finish(target.name, ok=target.path not in self.failed)

    def listen(self, descriptor: int) -> threading.Thread:
        def read() -> None:
            with os.fdopen(descriptor, encoding="utf-8") as stream:
                for line in stream:
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    self.handle(event)

        thread = threading.Thread(target=read, daemon=True, name="bookbuild-nbval-events")
        thread.start()
        return thread

    def framework_failed(self, framework: str) -> bool:
        """A cell failed, or a notebook never finished (a worker crashed, pytest stopped)."""
        return any(t.pair.framework.name == framework and (t.path in self.failed or t.path not in self.finished)
                   for t in self.by_path.values())


@dataclass
class Plan:
    """Which frameworks run on which kernels, and their notebooks."""

    tested: list[str] = field(default_factory=list)
    not_tested: list[str] = field(default_factory=list)  # GPU runs: no GPU environment
    missing: list[str] = field(default_factory=list)  # frameworks with a notebook that does not exist
    targets: list[Target] = field(default_factory=list)
    kernels: list[str] = field(default_factory=list)  # pytest options: the GPU kernel for each CPU one


def plan(settings: Settings, frameworks: list[str], pairs: Sequence[Pair], device: str) -> Plan:
    """One line per framework: its kernel, notebooks and cells not compared, or why it is not tested."""
    found = Plan()
    for name in frameworks:
        framework = settings.framework(name)
        mine, absent = targets([pair for pair in pairs if pair.framework.name == name], settings)
        for path in absent:
            print(f"{path}: missing (run `make notebooks`)", file=sys.stderr)
        if absent:
            found.missing.append(name)
        if device == "gpu" and envs.installed_python(framework, device) is None:
            print(f"== nbval [{name}] on the GPU: NOT TESTED, {len(mine)} notebooks not run: no GPU "
                  f"environment (`make envs-gpu FRAMEWORK={name}`, or set "
                  f"{envs.external_python_variable(framework)}; see docs/gpu.md)", flush=True)
            found.not_tested.append(name)
            continue
        kernel = envs.ensure_kernel(framework, device=device)
        if device != "cpu":
            found.kernels += ["--bookbuild-kernel", f"{notebooks.kernel_name(framework)}={kernel}"]
        print(f"== nbval [{name}] on kernel {kernel}: {len(mine)} notebooks, "
              f"{sum(t.ignored for t in mine)} cells with outputs not compared (#@varies), "
              f"{sum(t.images for t in mine)} images compared by their text part only", flush=True)
        found.tested.append(name)
        found.targets += mine
    return found


def run_nbval(settings: Settings, frameworks: list[str], pytest_args: list[str], device: str = "cpu", *,
              chapters: Sequence[Chapter] | None = None, jobs: int | None = None, shard: Shard | None = None,
              show: Callable[..., progress.Display] = progress.Display) -> int:
    """nbval over the notebooks of the book's chapters (or of a shard of them), per framework."""
    if chapters is None:
        chapters = read_book(settings)
    timings = Timings.load(schedule.timings_path(settings))
    pairs = schedule.book_pairs(chapters, settings, frameworks)
    if shard:
        pairs = schedule.shard_of(pairs, shard, timings.estimate)
    chosen = plan(settings, frameworks, pairs, device)
    failed = [name for name in chosen.missing if name not in chosen.not_tested]
    if chosen.targets:
        failed += [name for name in _run(settings, chosen, timings, device, jobs, pytest_args, show)
                   if name not in failed]
    passed = [name for name in chosen.tested if name not in failed]
    print(summary(device, passed, failed, chosen.not_tested),
          file=sys.stderr if failed or chosen.not_tested else sys.stdout)
    if chosen.not_tested and not failed:
        print(f"not every framework was tested: exit status {INCOMPLETE}", file=sys.stderr)
    return exit_status(failed, chosen.not_tested)


def _run(settings: Settings, chosen: Plan, timings: Timings, device: str, jobs: int | None,
         pytest_args: list[str], show: Callable[..., progress.Display]) -> list[str]:
    """One pytest run over every notebook, longest first; returns the frameworks that failed."""
    order = sorted(chosen.targets, key=lambda t: (-timings.estimate(t.pair), t.pair.order, t.path))
    if device == "gpu" and jobs is None:
        jobs = 1  # the kernels would share one GPU and its memory: more only when asked (-j N)
    workers = schedule.workers(jobs, chosen.tested, timings)
    print(f"== {len(order)} notebooks, {workers.count} at a time ({workers.why})", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        sanitizer = Path(tmp) / "nbval-sanitize.cfg"
        sanitizer.write_text(sanitizer_text(settings.root, device))
        command = [sys.executable, "-m", "pytest", "--nbval", "-p", "bookbuild.nbval_plugin", *chosen.kernels,
                   "--nbval-sanitize-with", str(sanitizer), "--rootdir", str(settings.root), "-q",
                   *(["-n", str(workers.count), "--dist", "loadfile"] if workers.count > 1 else []),
                   *pytest_args, *(t.path for t in order)]
        with show("nbval", {t.name: timings.estimate(t.pair) for t in order}, workers=workers.count,
                  seconds=True) as shown:
            outcomes = Outcomes(order, shown)
            status, output = _pytest(command, settings, outcomes)
        print(output, end="", flush=True)
    # A run that failed without a failing cell (a collection error, say) fails every framework.
    return [name for name in chosen.tested
            if (status != 0 and not outcomes.failed) or outcomes.framework_failed(name)]


def _pytest(command: list[str], settings: Settings, outcomes: Outcomes) -> tuple[int, str]:
    """Run pytest with the plugin's events on a pipe, its kernels on this checkout's library;
    return its exit status and its output."""
    read, write = os.pipe()
    listener = outcomes.listen(read)
    try:
        process = subprocess.Popen(command, cwd=settings.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, pass_fds=(write,),
                                   env={**kernel_environment(settings), EVENTS_FD: str(write)})
    finally:
        os.close(write)
    output, _ = process.communicate()
    listener.join()
    return process.returncode, output
