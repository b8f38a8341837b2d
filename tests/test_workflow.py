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


def step(job: str, action: str) -> dict:
    [found] = [s for s in JOBS[job]["steps"] if s.get("uses", "").startswith(f"actions/{action}@")]
    return found


def test_a_notebooks_job_per_framework_and_shard_and_a_gpu_job_per_framework(settings):
    for job in ("notebooks", "gpu"):
        assert JOBS[job]["strategy"]["matrix"]["framework"] == list(settings.framework_names)
    shards = JOBS["notebooks"]["strategy"]["matrix"]["shard"]
    [command] = runs("notebooks")
    count = int(re.search(r"SHARD=\$\{\{ matrix.shard \}\}/(\d+)", command)[1])
    assert shards == list(range(1, count + 1)) and count >= 2  # every shard i of N, each once
    assert command == (f"make notebooks test-notebooks FRAMEWORK=${{{{ matrix.framework }}}} "
                       f"SHARD=${{{{ matrix.shard }}}}/{count} EXPORT=_build/shard")
    upload = step("notebooks", "upload-artifact")
    assert upload["with"]["path"] == "_build/shard/"
    assert upload["with"]["name"] == "notebooks-${{ matrix.framework }}-${{ matrix.shard }}"
    assert "make test-gpu FRAMEWORK=${{ matrix.framework }}" in runs("gpu")
    assert {"self-hosted", "gpu"} <= set(JOBS["gpu"]["runs-on"])
    assert runs("checks") == ["make lint unit freshness"]


def test_html_job_collects_every_shard_then_builds_both_editions_and_uploads_them():
    assert set(JOBS["html"]["needs"]) == {"checks", "notebooks"}
    download = step("html", "download-artifact")
    assert download["with"] == {"pattern": "notebooks-*", "path": "_build/shards"}
    assert runs("html") == ["make collect html SHARDS=_build/shards"]
    assert step("html", "upload-artifact")["with"]["path"] == "_build/html/"
