"""Execute notebooks, with a cache keyed by content.

The code of a section is the same in every language, so a (section, framework) pair runs once and
every language's notebook gets its outputs. The key hashes the code cells, the kernel environment
(framework pins and Python version) and, for a section that imports the book's library, the
library module it imports; the committed notebooks carry it in their metadata and are themselves
the cache. Hence an unchanged book, or an edit to prose only, starts no kernel, and a fresh clone
of the repository builds without running anything.

One exception: an output that carries the reader's language in its metadata (``"language": "pt"``,
as the book's plotting helper writes it: its axis labels and description are in that language)
shows that the section's outputs depend on the language. Such a section runs once per language,
each time with its own notebook's setup cell, which tells the kernel the language.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def cache_key(code: Sequence[tuple[str, Sequence[str]]], environment: str, library: str = "") -> str:
    """The key of one (section, framework) run: its code cells as (source, tags), the setup code
    first, in the same form for every language; the kernel environment's fingerprint; and the
    fingerprint of the library module the section imports, if it imports one."""
    payload = {"environment": environment, "code": [[source, list(tags)] for source, tags in code]}
    if library:
        payload["library"] = library
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def languages_of(cells: list[NotebookNode]) -> set[str]:
    """The languages that outputs say they are in (see the module's docstring)."""
    return {str(output.metadata["language"]) for cell in cells for output in cell.get("outputs", [])
            if isinstance(output.get("metadata"), dict) and output.metadata.get("language")}


def has_code(notebook: NotebookNode) -> bool:
    return any(c.cell_type == "code" for c in notebook.cells)


def has_outputs(notebook: NotebookNode) -> bool:
    """Whether the notebook holds what a run produced (a run whose cells printed nothing counts)."""
    return "execution" in notebook.metadata.get("bookbuild", {}) or any(
        c.get("outputs") or c.get("execution_count") for c in notebook.cells if c.cell_type == "code")


@dataclass
class CellFailure(Exception):
    """A cell raised (or a ``#@raises`` cell did not): which one, and the traceback."""

    index: int  # among the notebook's code cells, setup cell first; -1: the kernel did not start
    message: str
    timeout: int | None = None  # the cell ran past this many seconds

    def __str__(self) -> str:
        return self.message


class Interrupted(Exception):
    """The run was stopped from outside (Ctrl-C on a parallel build): it produced nothing."""


class Interrupt:
    """Lets another thread stop runs: no further cell starts, and the running cells are interrupted
    (SIGINT to their kernels, which run in sessions of their own and never see the terminal's)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._kernels: set[int] = set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def watch(self, pid: int | None) -> None:
        with self._lock:
            if pid is not None:
                self._kernels.add(pid)

    def forget(self, pid: int | None) -> None:
        with self._lock:
            self._kernels.discard(pid)

    def set(self) -> None:
        with self._lock:
            self._event.set()
            for pid in self._kernels:
                with contextlib.suppress(OSError):  # it has just ended
                    os.kill(pid, signal.SIGINT)


@dataclass
class Execution:
    """A run's executed code cells, and what it cost: wall-clock seconds and the kernel's peak memory."""

    cells: list[NotebookNode]
    seconds: float
    memory_mb: int | None


def peak_memory_mb(pid: int | None) -> int | None:
    """The process's peak resident memory (VmHWM), where the system tells it (Linux)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, TypeError):
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return round(int(found[1]) / 1024) if found else None


def cached_outputs(key: str, candidates: list[Path]) -> list[NotebookNode] | None:
    """The executed code cells of an earlier build with the same key, if any notebook has them.

    The key is looked up in the raw JSON first: a no-op build of a large book reads every notebook.
    """
    for path in candidates:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            found = raw["metadata"]["bookbuild"]["execution"] == key
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if found:  # our own notebook, valid when it was written
            return [c for c in nbformat.v4.to_notebook(raw).cells if c.cell_type == "code"]
    return None


def apply_outputs(notebook: NotebookNode, executed: list[NotebookNode], key: str) -> None:
    code = [c for c in notebook.cells if c.cell_type == "code"]
    for cell, done in zip(code, executed, strict=True):
        cell.outputs = done.outputs
        cell.execution_count = done.execution_count
    notebook.metadata["bookbuild"]["execution"] = key


START_ATTEMPTS = 2  # a kernel that dies before its first reply is started once more


def run(notebook: NotebookNode, kernel: str, timeout: int, cell_timeouts: Sequence[int | None] = (),
        interrupt: Interrupt | None = None, env: dict[str, str] | None = None) -> Execution:
    """Execute a copy of the notebook's code in a fresh kernel; return its executed code cells.

    Each cell may run ``timeout`` seconds, or what ``cell_timeouts`` (by code cell) says. The
    kernel works in a temporary folder, so a notebook never reads or leaves files in the repository.
    Nothing else is shared between runs, so several run at once on different threads. ``env`` is
    the kernel's environment (by default the build's own): the build puts the book's library on its
    import path there.
    """
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient  # imported here: only a run needs it, and it takes a while

    start = time.perf_counter()
    code_only = nbformat.v4.new_notebook(
        cells=copy.deepcopy([c for c in notebook.cells if c.cell_type == "code"]),
        metadata=copy.deepcopy(notebook.metadata))
    interrupt = Interrupt() if interrupt is None else interrupt
    with tempfile.TemporaryDirectory(prefix="bookbuild-run-") as workdir:
        for attempt in range(1, START_ATTEMPTS + 1):
            # One stream output per cell and no timings: the same bytes on every run.
            client = NotebookClient(code_only, kernel_name=kernel, timeout=timeout, record_timing=False,
                                    coalesce_streams=True, resources={"metadata": {"path": workdir}})
            started = False
            try:
                with client.setup_kernel(**({"env": env} if env is not None else {})):
                    started = True
                    pid = getattr(client.km.provisioner, "pid", None)
                    interrupt.watch(pid)
                    try:
                        _run_cells(client, code_only.cells, timeout, cell_timeouts, interrupt)
                        memory = peak_memory_mb(pid)
                    finally:
                        interrupt.forget(pid)
                break
            except Exception as error:
                if started or isinstance(error, CellFailure | Interrupted):
                    raise
                # A kernel that died while starting is started once more: kernels started at once
                # pick their ports apart from each other, and two may take the same free port.
                if attempt < START_ATTEMPTS and not isinstance(error, NoSuchKernel) and not interrupt.is_set():
                    continue
                # No such kernel, or it died or hung while starting.
                raise CellFailure(-1, f"kernel {kernel!r}: {type(error).__name__}: {error}") from None
    for cell in code_only.cells:
        cell.outputs = [_clean(output) for output in cell.outputs]
    return Execution(code_only.cells, time.perf_counter() - start, memory)


def _run_cells(client, cells: list[NotebookNode], timeout: int, cell_timeouts: Sequence[int | None],
               interrupt: Interrupt) -> None:
    """Run the cells in order; the first that fails, times out or kills the kernel is a CellFailure.
    Once ``interrupt`` is set, no cell starts, and the one it interrupted ends the run."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    for index, cell in enumerate(cells):
        if interrupt.is_set():
            raise Interrupted()
        client.timeout = (cell_timeouts[index] if index < len(cell_timeouts) else None) or timeout
        try:
            client.execute_cell(cell, index)
        except CellExecutionError as error:
            if interrupt.is_set():
                raise Interrupted() from None
            raise CellFailure(index, ANSI.sub("", str(error))) from None
        except CellTimeoutError:
            raise CellFailure(index, f"ran past {client.timeout} s", timeout=client.timeout) from None
        except DeadKernelError as error:
            raise CellFailure(index, f"the kernel died while running it (out of memory?): {error}") from None
        tags = cell.metadata.get("tags", [])
        if "raises-exception" in tags and not any(o.output_type == "error" for o in cell.outputs):
            raise CellFailure(index, "the cell is marked #@raises but raised nothing")


def _clean(output: NotebookNode) -> NotebookNode:
    """Keep what a reader needs and what is the same on every machine.

    A traceback names the files of the kernel's environment; the last line (type and message) is
    what the book shows.
    """
    if output.output_type == "error":
        output.traceback = [f"{output.ename}: {output.evalue}"]
    return output
