"""Show a long run as it goes: what runs now, done/total, failures so far, time spent and time left.

On a terminal, a live display (rich) redrawn in place. Anywhere else (CI logs, pipes, files), one
plain line per event, each with a timestamp, and a line every minute while nothing finishes.

Every item has a weight: the seconds it is expected to take (notebooks, nbval) or any relative
size (HTML editions). The time left is the weight still to do at the pace seen so far; before
anything has finished, with weights in seconds, it is the expected seconds shared among workers.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

HEARTBEAT_S = 60.0


def clock(seconds: float) -> str:
    """1:05 or 1:02:05."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@dataclass
class Tally:
    """Where a run stands; the same arithmetic for both displays."""

    weights: Mapping[str, float]
    workers: int = 1
    seconds: bool = False  # weights are expected seconds, not only relative sizes
    started: dict[str, float] = field(default_factory=dict)  # item -> when it started (running ones)
    fractions: dict[str, float] = field(default_factory=dict)  # item -> share done, as reported
    notes: dict[str, str] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    begin: float = 0.0

    @property
    def total(self) -> int:
        return len(self.weights)

    def running(self) -> list[str]:
        return [item for item in self.started if item not in self.finished]

    def done_weight(self, now: float) -> float:
        done = 0.0
        for item, weight in self.weights.items():
            if item in self.finished:
                done += weight
            elif item in self.fractions:
                done += weight * self.fractions[item]
            elif self.seconds and item in self.started and weight > 0:
                done += min(0.9 * weight, now - self.started[item])
        return done

    def left(self, now: float) -> float | None:
        """Seconds left, or None while there is nothing to go by."""
        total = sum(self.weights.values())
        done = self.done_weight(now)
        if done >= total:
            return 0.0
        if self.finished and done > 0 and now > self.begin:
            return (now - self.begin) * (total - done) / done
        if self.seconds:
            return (total - done) / max(1, self.workers)
        return None

    def status(self, now: float) -> str:
        """`12/40 done · 1 failed · 0:41 elapsed · about 1:10 left`"""
        left = self.left(now)
        parts = [f"{len(self.finished)}/{self.total} done"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        parts.append(f"{clock(now - self.begin)} elapsed")
        if len(self.finished) < self.total:
            parts.append("time left unknown" if left is None else f"about {clock(left)} left")
        return " · ".join(parts)


class Display:
    """The calls a run makes; this base class shows nothing (library use, tests, benchmarks)."""

    def __init__(self, title: str, weights: Mapping[str, float], *, workers: int = 1, seconds: bool = False,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.title = title
        self.now = now
        self.tally = Tally(dict(weights), workers, seconds)
        self.lock = threading.RLock()

    def __enter__(self) -> Display:
        self.tally.begin = self.now()
        return self

    def __exit__(self, *exc) -> None:
        pass

    def start(self, item: str) -> None:
        with self.lock:
            self.tally.started[item] = self.now()
            self.changed("started", item)

    def advance(self, item: str, fraction: float, note: str = "") -> None:
        """A running item reports how far it got (0 to 1), and what it is doing."""
        with self.lock:
            self.tally.started.setdefault(item, self.now())
            self.tally.fractions[item] = max(0.0, min(1.0, fraction))
            self.tally.notes[item] = note
            self.changed("", item)

    def finish(self, item: str, ok: bool = True, note: str = "") -> None:
        with self.lock:
            self.tally.started.setdefault(item, self.now())
            self.tally.finished.add(item)
            if not ok:
                self.tally.failed.add(item)
            self.changed("finished" if ok else "FAILED", item, note)

    def changed(self, event: str, item: str, note: str = "") -> None:
        pass


class Lines(Display):
    """One timestamped line per start and end, for logs; a line a minute while nothing changes."""

    def __init__(self, title: str, weights: Mapping[str, float], *, stream: TextIO | None = None,
                 heartbeat: float = HEARTBEAT_S, **options) -> None:
        super().__init__(title, weights, **options)
        self.stream = stream or sys.stdout
        self.heartbeat = heartbeat
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self.last = 0.0

    def __enter__(self) -> Lines:
        super().__enter__()
        self.write(f"{self.tally.total} to do")
        if self.heartbeat:
            self.thread = threading.Thread(target=self.beat, daemon=True, name="bookbuild-progress")
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        if self.thread:
            self.thread.join()
        with self.lock:
            self.write(f"{'interrupted' if exc[0] else 'ended'}: {self.tally.status(self.now())}")

    def write(self, message: str) -> None:
        self.last = self.now()
        self.stream.write(f"[{time.strftime('%H:%M:%S')}] {self.title}: {message}\n")
        self.stream.flush()

    def changed(self, event: str, item: str, note: str = "") -> None:
        if not event:
            return  # fractions move the estimate; they are not worth a line each
        took = ""
        if event != "started":
            took = f" in {clock(self.now() - self.tally.started[item])}"
        detail = f" ({note})" if note else ""
        self.write(f"{event} {item}{took}{detail} · {self.tally.status(self.now())}")

    def beat(self) -> None:
        while not self.stopped.wait(min(self.heartbeat, 5.0)):
            self.beat_once()

    def beat_once(self) -> None:
        """After a quiet minute, a line with what runs and for how long: a log never looks stuck."""
        with self.lock:
            now = self.now()
            running = self.tally.running()
            if running and now - self.last >= self.heartbeat:
                items = ", ".join(f"{item} ({clock(now - self.tally.started[item])})" for item in running)
                self.write(f"running {items} · {self.tally.status(now)}")


class Redrawn(Display):
    """A display redrawn in place on a terminal: a bar, the status line and the running items;
    failures are printed above it as they happen."""

    def __init__(self, title: str, weights: Mapping[str, float], *, console: Console, **options) -> None:
        super().__init__(title, weights, **options)
        self.console = console
        self.live = Live(console=console, refresh_per_second=4, transient=True, get_renderable=self.render)

    def __enter__(self) -> Redrawn:
        super().__enter__()
        self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.live.__exit__(*exc)
        state = "interrupted" if exc[0] else "ended"
        self.console.print(f"{self.title}: {state}: {self.tally.status(self.now())}", highlight=False)

    def changed(self, event: str, item: str, note: str = "") -> None:
        if event == "FAILED":
            self.console.print(Text(f"{self.title}: FAILED {item}" + (f" ({note})" if note else ""), style="red"))

    def render(self) -> Group:
        with self.lock:
            now = self.now()
            tally = self.tally
            total = sum(tally.weights.values()) or 1.0
            bar = Table.grid(padding=(0, 1))
            bar.add_row(Text(self.title, style="bold"),
                        ProgressBar(total=total, completed=min(total, tally.done_weight(now)), width=30),
                        Text(tally.status(now), style="red" if tally.failed else ""))
            lines = [bar]
            for item in tally.running():
                note = tally.notes.get(item, "")
                lines.append(Text(f"  {clock(now - tally.started[item]):>5}  {item}" + (f"  {note}" if note else ""),
                                  style="dim"))
            return Group(*lines)


def display(title: str, weights: Mapping[str, float], *, stream: TextIO | None = None, **options) -> Display:
    """A live display on a terminal, timestamped lines anywhere else."""
    stream = stream or sys.stdout
    console = Console(file=stream)
    if console.is_terminal and not console.is_dumb_terminal:
        return Redrawn(title, weights, console=console, **options)
    return Lines(title, weights, stream=stream, **options)
