"""The GitHub Actions workflow calls the commands a developer types, for the book's frameworks.
(Its syntax is checked by actionlint in `make lint`.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = yaml.safe_load((REPO / ".github/workflows/book.yml").read_text())
JOBS = WORKFLOW["jobs"]


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z-]+):", (REPO / "Makefile").read_text(), flags=re.MULTILINE))


def runs(job: str) -> list[str]:
    return [step["run"] for step in JOBS[job]["steps"] if "run" in step]


def test_every_make_call_names_a_makefile_target():
    targets = make_targets()
    for job in JOBS:
        for command in runs(job):
            for call in re.findall(r"\bmake ((?:[a-z-]+ ?)+)", command):
                assert set(call.split()) <= targets, (job, command)


def test_a_cpu_and_a_gpu_job_per_framework(settings):
    for job in ("cpu", "gpu"):
        assert JOBS[job]["strategy"]["matrix"]["framework"] == list(settings.framework_names)
    assert runs("cpu") == ["make test-notebooks FRAMEWORK=${{ matrix.framework }}"]
    assert "make test-gpu FRAMEWORK=${{ matrix.framework }}" in runs("gpu")
    assert {"self-hosted", "gpu"} <= set(JOBS["gpu"]["runs-on"])
    assert runs("checks") == ["make lint unit freshness"]


def test_html_job_builds_both_editions_and_uploads_them():
    assert runs("html") == ["make html"]
    [upload] = [s for s in JOBS["html"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["path"] == "_build/html/"
