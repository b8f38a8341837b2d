"""Parallel and sharded builds on a tiny two-section book whose frameworks all run on `python3`:
the same bytes at any concurrency, failures isolated, the timings record, shards collected."""

from __future__ import annotations

import shutil

import pytest
from conftest import build_tiny_book, copy_of, python3_kernel, write_sections

from bookbuild import collect, envs, progress
from bookbuild.build import build_notebooks, read_book
from bookbuild.cli import main
from bookbuild.schedule import Shard, Timing, Timings, timings_path
from bookbuild.settings import load_settings

CODE = """\
```{{.python .input}}
#@tab mxnet, pytorch, tensorflow
import time
time.sleep(0.3)  # long enough for runs to overlap
print(FRAMEWORK, {n}, random.random())
```

```{{.python .input}}
#@tab pytorch
value = {n} * 7
value
```
"""


@pytest.fixture
def two_sections(tiny_book, monkeypatch):
    """The tiny book with two sections, not built yet."""
    monkeypatch.setattr(envs, "ensure_kernel", python3_kernel)
    return write_sections(tiny_book, CODE, 2)


@pytest.fixture(scope="module")
def built_once(tmp_path_factory):
    """One build of the two sections, copied by each test that starts from a built book."""
    return build_tiny_book(tmp_path_factory.mktemp("built"), CODE, 2)


@pytest.fixture
def built(built_once, tmp_path, monkeypatch):
    return copy_of(built_once, tmp_path, monkeypatch)


class Recorder(progress.Display):
    """A display that remembers how many pairs ran at once."""

    most = 0

    def start(self, item):
        super().start(item)
        Recorder.most = max(Recorder.most, len(self.tally.running()))


def build(book, **options):
    settings = load_settings(book)
    timings = Timings.load(timings_path(settings))
    return build_notebooks(read_book(settings), settings, settings.notebooks_dir, timings=timings,
                           log=lambda message: None, **options)


def snapshot(book) -> dict[str, bytes]:
    return {str(p.relative_to(book)): p.read_bytes() for p in sorted((book / "notebooks").rglob("*.ipynb"))}


def test_two_at_once_writes_the_same_bytes_as_one_at_a_time(two_sections):
    Recorder.most = 0
    serial = build(two_sections, jobs=1, show=Recorder)
    assert (serial.kernels_started, serial.failures, Recorder.most) == (6, [], 1)
    first = snapshot(two_sections)
    record = timings_path(load_settings(two_sections))
    timings = Timings.load(record)
    assert sorted(timings.entries) == [(f"part/s{n}", f) for n in (1, 2) for f in ("mxnet", "pytorch", "tensorflow")]
    assert all(t.seconds >= 0.3 for t in timings.entries.values())
    text = record.read_text()
    for path in (two_sections / "notebooks").rglob("*.ipynb"):
        path.unlink()
    parallel = build(two_sections, jobs=2, show=Recorder)
    assert (parallel.kernels_started, parallel.failures, Recorder.most) == (6, [], 2)
    assert snapshot(two_sections) == first
    assert parallel.written == serial.written  # reported in book order, whatever finished first
    assert record.read_text() == text  # the same code again: the timings record stands


def test_a_failing_pair_keeps_its_notebooks_and_the_others_go_on(built):
    before = snapshot(built)
    for n in (1, 2):
        path = built / "chapters" / "part" / f"s{n}.md"
        broken = "value = undefined_name" if n == 1 else f"value = {n} * 8"
        path.write_text(path.read_text().replace(f"value = {n} * 7", broken))
    report = build(built, jobs=2)
    assert report.kernels_started == 2
    [failure] = report.failures
    assert failure.startswith("chapters/part/s1.md:16: [pytorch] cell failed") and "undefined_name" in failure
    after = snapshot(built)
    for lang in ("en", "pt"):
        assert after[f"notebooks/{lang}/pytorch/part/s1.ipynb"] == before[f"notebooks/{lang}/pytorch/part/s1.ipynb"]
        assert after[f"notebooks/{lang}/pytorch/part/s2.ipynb"] != before[f"notebooks/{lang}/pytorch/part/s2.ipynb"]
        assert '"16"' in after[f"notebooks/{lang}/pytorch/part/s2.ipynb"].decode()


def test_a_kernel_that_dies_is_blamed_on_its_cell_and_the_others_go_on(built):
    path = built / "chapters" / "part" / "s2.md"
    path.write_text(path.read_text().replace("value = 2 * 7", "import os\nos._exit(1)"))
    path = built / "chapters" / "part" / "s1.md"
    path.write_text(path.read_text().replace("value = 1 * 7", "value = 1 * 9"))
    report = build(built, jobs=2)
    assert report.kernels_started == 2
    assert report.failures == ["chapters/part/s2.md:16: [pytorch] cell failed\nthe kernel died while running it "
                               "(out of memory?): Kernel died"]
    assert '"9"' in (built / "notebooks" / "en" / "pytorch" / "part" / "s1.ipynb").read_text()


def test_every_failure_is_listed_with_its_line_and_the_exit_status_is_1(two_sections, capsys):
    for n in (1, 2):
        path = two_sections / "chapters" / "part" / f"s{n}.md"
        path.write_text(path.read_text().replace("time.sleep(0.3)", "1 / 0"))
    assert main(["--root", str(two_sections), "notebooks", "-j", "2"]) == 1
    out, err = capsys.readouterr()
    assert err.index("chapters/part/s1.md:9: [mxnet] cell failed") < err.index("chapters/part/s2.md:9: [mxnet]")
    assert err.count("] cell failed") == 6 and "0 notebooks written, 6 kernels started" in out
    assert out.count("notebooks: FAILED part/s") == 6  # the progress lines, as in a CI log


def test_shards_exported_and_collected_make_the_full_build(built, tmp_path):
    full = snapshot(built)
    settings = load_settings(built)
    shards = tmp_path / "shards"
    exported = []
    for index in (1, 2):
        report = build(built, shard=Shard(index, 2), jobs=1)
        assert report.kernels_started == 0
        exported.append(report.pairs)
        collect.export(report.pairs, settings, shards / f"shard-{index}")
    assert sorted(p.key for pairs in exported for p in pairs) == sorted(
        (f"part/s{n}", f) for n in (1, 2) for f in ("mxnet", "pytorch", "tensorflow"))
    assert all(exported)
    shutil.rmtree(built / "notebooks")
    assert collect.collect(read_book(settings), settings, shards) == []
    assert snapshot(built) == full


def test_collect_refuses_a_missing_shard_and_leaves_notebooks_untouched(built, tmp_path, capsys):
    full = snapshot(built)
    assert main(["--root", str(built), "notebooks", "--shard", "1/2", "--export",
                 str(tmp_path / "shards" / "one")]) == 0
    assert main(["--root", str(built), "collect", str(tmp_path / "shards")]) == 1
    err = capsys.readouterr().err
    assert ": missing" in err and "do not make a full build: notebooks/ is unchanged" in err
    assert snapshot(built) == full


def test_collect_refuses_shards_that_disagree_or_are_stale(built, tmp_path_factory):
    settings = load_settings(built)
    tmp_path = tmp_path_factory.mktemp("shards")
    for name in ("one", "two"):
        shutil.copytree(built / "notebooks", tmp_path / name / "notebooks")
    changed = tmp_path / "two" / "notebooks" / "en" / "mxnet" / "part" / "s1.ipynb"
    changed.write_text(changed.read_text().replace("Section 1", "Section one"))
    problems = collect.collect(read_book(settings), settings, tmp_path)
    assert problems == [f"notebooks/en/mxnet/part/s1.ipynb: the shards in {tmp_path / 'one' / 'notebooks'} and "
                        f"{tmp_path / 'two' / 'notebooks'} built it differently"]
    shutil.rmtree(tmp_path / "one")
    assert collect.collect(read_book(settings), settings, tmp_path) == [
        "notebooks/en/mxnet/part/s1.ipynb: differs from what chapters/part/s1.md produces"]


def test_a_shard_and_a_framework_build_only_their_pairs(two_sections):
    report = build(two_sections, frameworks=["pytorch"], shard=Shard(2, 2), jobs=1)
    assert [str(p) for p in report.pairs] in (["part/s1 [pytorch]"], ["part/s2 [pytorch]"])
    assert report.kernels_started == 1
    assert len(list((two_sections / "notebooks").rglob("*.ipynb"))) == 2


def test_only_a_whole_build_removes_orphans_and_forgets_timings(built, capsys):
    orphan = built / "notebooks" / "en" / "mxnet" / "part" / "old.ipynb"
    orphan.write_text("{}")
    record = timings_path(load_settings(built))
    timings = Timings.load(record)
    timings.entries[("part/old", "mxnet")] = Timing(1.0, 100, "gone")
    timings.save()
    for partial in (["pytorch"], ["--shard", "1/2"]):
        assert main(["--root", str(built), "notebooks", *partial]) == 0
        assert orphan.exists() and ("part/old", "mxnet") in Timings.load(record).entries
    assert main(["--root", str(built), "notebooks"]) == 0
    assert "removed notebooks/en/mxnet/part/old.ipynb: no chapter produces it" in capsys.readouterr().out
    assert not orphan.exists() and ("part/old", "mxnet") not in Timings.load(record).entries


def test_shards_keep_the_record_as_it_was_and_collect_adds_their_measurements(built, tmp_path):
    for n in (1, 2):
        path = built / "chapters" / "part" / f"s{n}.md"
        path.write_text(path.read_text().replace(f"value = {n} * 7", f"value = {n} * 8"))
    record = timings_path(load_settings(built))
    before = Timings.load(record)
    text = record.read_text()
    shards = tmp_path / "shards"
    for index in (1, 2):  # each shard splits the book by the same record, whatever the other ran
        assert main(["--root", str(built), "notebooks", "--shard", f"{index}/2", "--export",
                     str(shards / str(index))]) == 0
        assert record.read_text() == text
    exported = [Timings.load(shards / str(index) / "notebooks" / "timings.json").entries for index in (1, 2)]
    assert not set(exported[0]) & set(exported[1])
    assert set(exported[0]) | set(exported[1]) == set(before.entries)
    assert main(["--root", str(built), "collect", str(shards)]) == 0
    after = Timings.load(record).entries
    for key, timing in after.items():
        assert (timing.execution != before.entries[key].execution) == (key[1] == "pytorch"), key
    assert main(["--root", str(built), "check", "--notebooks"]) == 0
