"""A pytest plugin for `bookbuild test-notebooks`, loaded with ``-p bookbuild.nbval_plugin``.

- ``--bookbuild-kernel FROM=TO`` runs the notebooks that name kernel FROM on kernel TO: the GPU run
  of notebooks that name their CPU kernel. (nbval's own ``--nbval-kernel-name`` names one kernel for
  every notebook, which would serialize the frameworks into one pytest run each.)
- Where ``BOOKBUILD_EVENTS_FD`` names an open pipe, the controlling process (not an xdist worker)
  writes one JSON line to it per cell that starts and per test report, for the progress display.
"""

from __future__ import annotations

import contextlib
import json
import os

import pytest

EVENTS_FD = "BOOKBUILD_EVENTS_FD"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("bookbuild").addoption(
        "--bookbuild-kernel", action="append", default=[], metavar="FROM=TO",
        help="run the notebooks whose kernelspec is FROM on kernel TO")


def pytest_configure(config: pytest.Config) -> None:
    descriptor = os.environ.get(EVENTS_FD)
    if descriptor and not hasattr(config, "workerinput"):
        config.pluginmanager.register(Events(os.fdopen(int(descriptor), "w", buffering=1)), "bookbuild-events")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    renamed = dict(option.split("=", 1) for option in config.getoption("bookbuild_kernel"))
    for item in items:
        notebook = getattr(item.parent, "nb", None)  # nbval's IPyNbFile, read at collection
        if notebook is not None and renamed:
            spec = notebook.metadata.setdefault("kernelspec", {})
            spec["name"] = renamed.get(spec.get("name"), spec.get("name"))


class Events:
    def __init__(self, stream) -> None:
        self.stream = stream

    def send(self, **event) -> None:
        with contextlib.suppress(BrokenPipeError, ValueError):  # nobody listens any more: tests go on
            self.stream.write(json.dumps(event) + "\n")

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.send(event="start", nodeid=nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.send(event="report", nodeid=report.nodeid, when=report.when, outcome=report.outcome)

    def pytest_unconfigure(self) -> None:
        self.stream.close()
