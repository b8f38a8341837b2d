"""Which (section, framework) pairs run, in what order, how many at once, and in which shard.

`execute` runs one pair in one kernel; this module plans the runs around it:

- **Pairs**: every (chapter, framework) that has notebooks, in book order.
- **Costs**: the seconds each pair took when it last ran, from the committed timings file
  (notebooks/timings.json); a pair that never ran is estimated from its number of code cells.
- **Order**: longest first, so that a long pair never starts last and leaves the other workers idle.
- **Concurrency**: the number of cores, capped so that the kernels fit in the memory available (each
  framework's kernel memory is measured by every run and kept in the timings file).
- **Shards**: ``i/N`` picks a deterministic, time-balanced subset of the pairs, so that N machines
  build or test one book in the time of the slowest shard.

Nothing here changes what a pair produces: the notebooks of a build are the same bytes whatever
the order, the concurrency or the sharding.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from .files import write_atomic
from .model import Chapter
from .settings import Framework, Settings

TIMINGS_FILE = "timings.json"
ABOUT = ("The last measured run of each (section, framework) pair: seconds, the kernel's peak memory (MB) and the "
         "cache key of that run. Written by `bookbuild notebooks`, which orders and shards the runs by it; an entry "
         "changes only when its pair runs with new code or a new kernel environment.")
# A pair that never ran: a kernel's start (imports included) plus a share per code cell. Coarse on
# purpose; the first run of the pair replaces it with a measurement.
ESTIMATED_START_S = 3.0
ESTIMATED_CELL_S = 0.5
# A framework's kernel whose memory was never measured is assumed to need this much.
ASSUMED_KERNEL_MB = 1500
# Of the memory available when a build starts, the share its kernels may use.
MEMORY_SHARE = 0.75


@dataclass(frozen=True, eq=False)
class Pair:
    """One section in one framework: one kernel run, whose outputs go to every language."""

    chapter: Chapter
    framework: Framework
    order: int  # position in the book: chapters in file order, frameworks in settings order

    @property
    def key(self) -> tuple[str, str]:
        return (self.chapter.name, self.framework.name)

    @property
    def cells(self) -> int:
        return len(self.chapter.code_cells(self.framework.name))

    def __str__(self) -> str:
        return f"{self.chapter.name} [{self.framework.name}]"


def book_pairs(chapters: Sequence[Chapter], settings: Settings, frameworks: Sequence[str] | None = None) -> list[Pair]:
    """Every pair that has notebooks, in book order; ``frameworks`` keeps only those frameworks.
    Every section has a notebook for every framework: one it has no code for says so (a framework gap)."""
    chosen = [f for f in settings.frameworks if frameworks is None or f.name in frameworks]
    pairs = [(chapter, framework) for chapter in chapters for framework in chosen]
    return [Pair(chapter, framework, order) for order, (chapter, framework) in enumerate(pairs)]


# --- timings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    seconds: float
    memory_mb: int | None  # the kernel's peak resident memory; None where it cannot be read
    execution: str  # the cache key of the run that was measured


@dataclass
class Timings:
    """The last measured run of each pair: the committed file notebooks/timings.json.

    An entry changes only when its pair runs with a new cache key (new code or a new kernel
    environment), so that a rebuild without changes, at any concurrency, leaves the file as it was.
    """

    path: Path | None = None
    entries: dict[tuple[str, str], Timing] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Timings:
        """The file's entries; a missing or unreadable file is an empty record (it is only a hint)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = {(chapter, framework): Timing(float(run["seconds"]), run.get("memory_mb"), str(run["execution"]))
                       for chapter, runs in data["pairs"].items() for framework, run in runs.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            entries = {}
        return cls(path, entries)

    def estimate(self, pair: Pair) -> float:
        """Seconds the pair is expected to take: its last run, or an estimate from its cells."""
        if not pair.cells:
            return 0.0
        if pair.key in self.entries:
            return self.entries[pair.key].seconds
        return ESTIMATED_START_S + ESTIMATED_CELL_S * pair.cells

    def record(self, pair: Pair, execution: str, seconds: float, memory_mb: int | None) -> None:
        previous = self.entries.get(pair.key)
        if previous is None or previous.execution != execution:
            self.entries[pair.key] = Timing(round(seconds, 1), memory_mb, execution)

    def only(self, pairs: Sequence[Pair], path: Path | None = None) -> Timings:
        """The entries of ``pairs`` alone, as a record at ``path``: a shard's part of the record."""
        wanted = {pair.key for pair in pairs}
        return Timings(path, {key: timing for key, timing in self.entries.items() if key in wanted})

    def keep_only(self, pairs: Sequence[Pair]) -> None:
        """Forget pairs the book no longer has (after a full build)."""
        wanted = {pair.key for pair in pairs}
        self.entries = {key: timing for key, timing in self.entries.items() if key in wanted}

    def kernel_memory_mb(self, framework: str) -> int | None:
        """The largest peak memory measured for the framework's kernel."""
        measured = [t.memory_mb for (_, name), t in self.entries.items() if name == framework and t.memory_mb]
        return max(measured, default=None)

    def save(self) -> None:
        """Write the file if its content changed (atomically); an empty record creates no file."""
        text = self.dumps()
        if self.path is None or (not self.entries and not self.path.exists()):
            return
        if not self.path.exists() or self.path.read_text(encoding="utf-8") != text:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, text)

    def dumps(self) -> str:
        """JSON with one line per pair, sorted, so that a change shows as a one-line diff."""
        chapters: dict[str, list[str]] = {}
        for (chapter, framework), timing in sorted(self.entries.items()):
            run = {"seconds": timing.seconds, "memory_mb": timing.memory_mb, "execution": timing.execution}
            chapters.setdefault(chapter, []).append(f"   {json.dumps(framework)}: {json.dumps(run)}")
        body = ",\n".join(f"  {json.dumps(chapter, ensure_ascii=False)}: {{\n" + ",\n".join(lines) + "\n  }"
                          for chapter, lines in chapters.items())
        return ('{\n "about": ' + json.dumps(ABOUT) + ',\n "pairs": {' + (f"\n{body}\n " if body else "")
                + "}\n}\n")


def timings_path(settings: Settings) -> Path:
    return settings.notebooks_dir / TIMINGS_FILE


def longest_first(pairs: Sequence[Pair], cost: Callable[[Pair], float]) -> list[Pair]:
    """Longest first; equal costs keep book order, so that the order is deterministic."""
    return sorted(pairs, key=lambda pair: (-cost(pair), pair.order))


# --- shards -------------------------------------------------------------------------------------

SHARD = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True)
class Shard:
    index: int  # from 1
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        found = SHARD.fullmatch(text.strip())
        if not found or not 1 <= int(found[1]) <= int(found[2]):
            raise ValueError(f"shard {text!r}: expected i/N with 1 <= i <= N, such as 2/4")
        return cls(int(found[1]), int(found[2]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def partition(pairs: Sequence[Pair], count: int, cost: Callable[[Pair], float]) -> list[list[Pair]]:
    """Split the pairs into ``count`` shards of about equal total cost.

    Longest first, each pair to the shard with the least cost so far (then the fewest pairs, then
    the lowest number): no shard exceeds the mean by more than one pair's cost. Only the pairs and
    their costs decide, never the order they come in, so every machine computes the same split.
    Each shard lists its pairs in book order.
    """
    shards: list[list[Pair]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for pair in sorted(pairs, key=lambda p: (-cost(p), p.key)):
        target = min(range(count), key=lambda i: (loads[i], len(shards[i]), i))
        shards[target].append(pair)
        loads[target] += cost(pair)
    return [sorted(shard, key=lambda p: p.order) for shard in shards]


def shard_of(pairs: Sequence[Pair], shard: Shard, cost: Callable[[Pair], float]) -> list[Pair]:
    return partition(pairs, shard.count, cost)[shard.index - 1]


# --- concurrency --------------------------------------------------------------------------------


def cores() -> int:
    """The cores this process may use (a container or `taskset` may allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def available_memory_mb() -> int | None:
    """Memory available to new processes: the kernel's estimate, bounded by a cgroup (container) limit."""
    found = []
    try:
        meminfo = Path("/proc/meminfo").read_text()
        found.append(int(re.search(r"^MemAvailable:\s+(\d+) kB", meminfo, re.MULTILINE)[1]) // 1024)
    except (OSError, TypeError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        if limit != "max":
            found.append((int(limit) - int(used)) // 2**20)
    except (OSError, ValueError):
        pass
    return min(found) if found else None


@dataclass(frozen=True)
class Workers:
    count: int
    why: str  # how the count was chosen, for the build's first line


def workers(requested: int | None, frameworks: Sequence[str], timings: Timings, *,
            cpus: int | None = None, memory_mb: int | None | bool = True) -> Workers:
    """How many kernels to run at once: ``requested`` or the number of cores, capped by memory.

    Each kernel is assumed to need the largest peak memory measured for the frameworks about to run
    (or ASSUMED_KERNEL_MB if none was measured); together they may use MEMORY_SHARE of the memory
    available now.
    """
    cpus = cpus or cores()
    wanted = requested or cpus
    source = f"-j {requested}" if requested else f"{cpus} cores"
    if memory_mb is True:
        memory_mb = available_memory_mb()
    if not frameworks or not memory_mb:
        return Workers(max(1, wanted), source)
    per_kernel = max(timings.kernel_memory_mb(name) or ASSUMED_KERNEL_MB for name in frameworks)
    fit = max(1, math.floor(memory_mb * MEMORY_SHARE / per_kernel))
    if fit < wanted:
        return Workers(fit, f"{source}, capped by memory: {memory_mb} MB available, "
                            f"up to {per_kernel} MB per kernel")
    return Workers(max(1, wanted), source)


# --- running ------------------------------------------------------------------------------------

Task = TypeVar("Task")
Result = TypeVar("Result")


@dataclass
class Runner(Generic[Task, Result]):
    """Run tasks on ``count`` threads, in the order given; hand each outcome to ``done`` in the
    calling thread as soon as it is known.

    ``started`` and ``finished`` are called on the worker's thread, as a task starts and ends (for a
    display of what runs now). A task's exception is its outcome and never stops the others.
    Ctrl-C (KeyboardInterrupt) cancels the tasks not yet started, calls ``stop`` so that the
    running ones end early, waits for them, and is raised again.
    """

    count: int
    started: Callable[[Task], None] = lambda task: None
    finished: Callable[[Task, bool], None] = lambda task, ok: None
    stop: Callable[[], None] = lambda: None

    def run(self, tasks: Sequence[Task], work: Callable[[Task], Result],
            done: Callable[[Task, Result | Exception], None]) -> None:
        lock = threading.Lock()

        def job(task: Task) -> Result:
            with lock:
                self.started(task)
            try:
                result = work(task)
            except Exception:
                with lock:
                    self.finished(task, False)
                raise
            with lock:
                self.finished(task, True)
            return result

        with ThreadPoolExecutor(max_workers=self.count, thread_name_prefix="bookbuild-run") as pool:
            futures: dict[Future, int] = {pool.submit(job, task): index for index, task in enumerate(tasks)}
            pending = set(futures)
            try:
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in sorted(finished, key=futures.__getitem__):
                        error = future.exception()
                        with lock:
                            done(tasks[futures[future]], error if error is not None else future.result())
            except BaseException:
                for future in pending:
                    future.cancel()
                self.stop()
                raise
