"""The GitHub Actions workflow calls the commands a developer types, for the book's frameworks, runs
everything `make test` runs, and publishes only a site that passed. (Its syntax is checked by
actionlint in `make lint`.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = yaml.safe_load((REPO / ".github/workflows/book.yml").read_text())
JOBS = WORKFLOW["jobs"]
TEST_JOBS = ["checks", "notebooks", "gpu", "site"]


def make_rules() -> dict[str, list[str]]:
    """target -> its prerequisites, from the Makefile."""
    return {target: prerequisites.split()
            for target, prerequisites in re.findall(r"^([a-z-]+):([^=\n]*?)(?:##.*)?$",
                                                    (REPO / "Makefile").read_text(), flags=re.MULTILINE)}


def runs(job: str) -> list[str]:
    return [step["run"] for step in JOBS[job]["steps"] if "run" in step]


def make_calls() -> list[str]:
    """Every target any job's `make` command names."""
    return [target for job in JOBS for command in runs(job)
            for call in re.findall(r"\bmake ((?:[a-z-]+ ?)+)", command) for target in call.split()]


def test_every_make_call_names_a_makefile_target():
    assert set(make_calls()) <= set(make_rules())


def test_the_workflow_runs_all_that_make_test_runs():
    rules = make_rules()

    def with_prerequisites(target: str) -> set[str]:
        return {target}.union(*(with_prerequisites(p) for p in rules.get(target, [])))

    covered = set().union(*(with_prerequisites(target) for target in make_calls()))
    assert set(rules["test"]) - covered == set()
    assert "test-browser" in make_calls()


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


def test_pytorchs_cpu_index_comes_from_its_requirements_file_alone():
    """As for `make envs` and Binder: no job sets an index of its own."""
    text = (REPO / ".github/workflows/book.yml").read_text()
    assert "PIP_" not in text and "download.pytorch.org" not in text


def test_the_site_job_collects_every_shard_tests_both_editions_and_hands_that_site_to_pages():
    command = "make collect test-browser SHARDS=_build/shards"
    assert JOBS["site"]["needs"] == ["notebooks"] and runs("site") == [command]
    steps = JOBS["site"]["steps"]
    download = step("site", "download-artifact")
    assert download["with"] == {"pattern": "notebooks-*", "path": "_build/shards"}
    upload = step("site", "upload-pages-artifact")
    assert upload["with"]["path"] == "_build/html/"
    assert steps.index(download) < [s.get("run") for s in steps].index(command) < steps.index(upload)


def test_pages_deploys_from_main_only_after_every_test_job_passed():
    deploy = JOBS["deploy"]
    assert deploy["needs"] == TEST_JOBS and set(JOBS) == {*TEST_JOBS, "deploy"}
    condition = " ".join(deploy["if"].split())
    assert "github.event_name == 'push'" in condition and "github.ref == 'refs/heads/main'" in condition
    for job in ("checks", "notebooks", "site"):
        assert f"needs.{job}.result == 'success'" in condition
    # The GPU job runs only where a GPU runner exists; skipped is allowed, failed is not.
    assert "(needs.gpu.result == 'success' || needs.gpu.result == 'skipped')" in condition
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert WORKFLOW["permissions"] == {"contents": "read"}  # the other jobs cannot write
