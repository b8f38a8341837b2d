"""The progress display: its arithmetic, the timestamped lines for logs and the redrawn terminal view."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from bookbuild import progress
from bookbuild.progress import Tally


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize(("seconds", "shown"), [(0, "0:00"), (59.6, "1:00"), (61, "1:01"), (3725, "1:02:05")])
def test_clock(seconds, shown):
    assert progress.clock(seconds) == shown


def test_time_left_is_the_weight_left_at_the_pace_seen():
    tally = Tally({"a": 10.0, "b": 10.0, "c": 20.0}, workers=2, seconds=True, begin=0.0)
    assert tally.left(0.0) == 20.0  # nothing done yet: 40 expected seconds over 2 workers
    tally.started["a"] = 0.0
    tally.finished.add("a")
    assert tally.left(5.0) == pytest.approx(5.0 * 30 / 10)  # 10 of 40 done in 5 s
    relative = Tally({"x": 1.0, "y": 1.0}, begin=0.0)
    assert relative.left(3.0) is None  # sizes, not seconds, and nothing done: unknown
    relative.fractions["x"] = 0.5
    relative.started["x"] = 0.0
    assert relative.left(3.0) is None  # still nothing finished
    relative.finished.add("y")
    assert relative.left(3.0) == pytest.approx(3.0 * 0.5 / 1.5)


def test_status_line_counts_failures_and_drops_the_estimate_at_the_end():
    tally = Tally({"a": 1.0, "b": 1.0}, seconds=True, begin=0.0)
    tally.finished.add("a")
    tally.failed.add("a")
    assert tally.status(65.0) == "1/2 done · 1 failed · 1:05 elapsed · about 1:05 left"
    tally.finished.add("b")
    assert tally.status(70.0) == "2/2 done · 1 failed · 1:10 elapsed"


def test_lines_for_logs_say_what_starts_ends_and_fails_with_a_timestamp():
    clock, out = Clock(), io.StringIO()
    with progress.Lines("notebooks", {"a [mxnet]": 4.0, "b [pytorch]": 4.0}, stream=out, workers=2,
                        seconds=True, now=clock, heartbeat=0) as shown:
        shown.start("a [mxnet]")
        shown.start("b [pytorch]")
        clock.t += 3
        shown.finish("a [mxnet]")
        clock.t += 2
        shown.finish("b [pytorch]", ok=False, note="cell 3")
    lines = [re.sub(r"^\[\d\d:\d\d:\d\d\] ", "", line) for line in out.getvalue().splitlines()]
    assert all(re.match(r"\[\d\d:\d\d:\d\d\] notebooks: ", line) for line in out.getvalue().splitlines())
    assert lines == [
        "notebooks: 2 to do",
        "notebooks: started a [mxnet] · 0/2 done · 0:00 elapsed · about 0:04 left",
        "notebooks: started b [pytorch] · 0/2 done · 0:00 elapsed · about 0:04 left",
        "notebooks: finished a [mxnet] in 0:03 · 1/2 done · 0:03 elapsed · about 0:00 left",
        "notebooks: FAILED b [pytorch] in 0:05 (cell 3) · 2/2 done · 1 failed · 0:05 elapsed",
        "notebooks: ended: 2/2 done · 1 failed · 0:05 elapsed",
    ]


def test_lines_say_what_still_runs_when_nothing_changed_for_a_while():
    clock, out = Clock(), io.StringIO()
    shown = progress.Lines("nbval", {"long": 600.0}, stream=out, seconds=True, now=clock, heartbeat=60)
    with shown:
        shown.start("long")
        clock.t += 61
        shown.beat_once()
    assert "nbval: running long (1:01) · 0/1 done · 1:01 elapsed" in out.getvalue()


def test_the_terminal_view_shows_the_bar_the_status_and_what_runs():
    clock, out = Clock(), io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    shown = progress.Redrawn("html", {"en edition": 1.0, "pt edition": 1.0}, console=console, now=clock)
    with shown:
        shown.start("en edition")
        shown.advance("en edition", 0.25, "reading chapters/index")
        clock.t += 10
        console.print(shown.render())
        shown.finish("pt edition", ok=False)
    text = out.getvalue()
    assert "0/2 done" in text and "0:10 elapsed" in text
    assert "0:10  en edition  reading chapters/index" in text
    assert "html: FAILED pt edition" in text and "html: ended: 1/2 done · 1 failed" in text


def test_a_terminal_gets_the_redrawn_view_and_a_pipe_gets_lines(monkeypatch):
    assert isinstance(progress.display("x", {}, stream=io.StringIO()), progress.Lines)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("TERM", raising=False)
    assert isinstance(progress.display("x", {}, stream=io.StringIO()), progress.Redrawn)
