"""The scheduler: pairs, costs, longest-first order, shards, the memory cap and the runner."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

from bookbuild import schedule
from bookbuild.model import Chapter, Code
from bookbuild.schedule import Pair, Runner, Shard, Timing, Timings


def chapter(name: str, cells: dict[str, int]) -> Chapter:
    """A chapter with ``cells[framework]`` code cells of its own per framework."""
    blocks = [Code(f"x = {i}", i + 1, (framework,)) for framework, count in cells.items() for i in range(count)]
    return Chapter(path=Path(f"chapters/{name}.md"), name=name, blocks=blocks, default_framework="mxnet",
                   named_frameworks=frozenset(cells))


def book(settings, sections: int = 12) -> list[Pair]:
    chapters = [chapter(f"part/s{n:02d}", {"mxnet": 1 + n % 3, "pytorch": 2, "tensorflow": 1 + n % 5})
                for n in range(sections)]
    return schedule.book_pairs(chapters, settings)


def test_pairs_are_in_book_order_and_can_be_limited_to_frameworks(settings):
    chapters = [chapter("a", {"mxnet": 1, "pytorch": 1, "tensorflow": 1}), chapter("b", {"pytorch": 2})]
    pairs = schedule.book_pairs(chapters, settings)
    # b has no MXNet or TensorFlow code (framework gaps): those notebooks exist, say so, and run nothing.
    assert [str(p) for p in pairs] == ["a [mxnet]", "a [pytorch]", "a [tensorflow]", "b [mxnet]", "b [pytorch]",
                                       "b [tensorflow]"]
    assert [p.order for p in pairs] == [0, 1, 2, 3, 4, 5]
    assert [p.cells for p in pairs] == [1, 1, 1, 0, 2, 0]
    assert [str(p) for p in schedule.book_pairs(chapters, settings, ["pytorch"])] == ["a [pytorch]", "b [pytorch]"]


def test_a_pair_costs_its_last_run_or_an_estimate_from_its_cells(settings):
    first, second = schedule.book_pairs([chapter("a", {"mxnet": 4}), chapter("b", {"mxnet": 2})], settings,
                                        ["mxnet"])
    timings = Timings(entries={("a", "mxnet"): Timing(12.5, 300, "k1")})
    assert timings.estimate(first) == 12.5
    assert timings.estimate(second) == schedule.ESTIMATED_START_S + 2 * schedule.ESTIMATED_CELL_S
    prose_only = schedule.book_pairs([Chapter(path=Path("c.md"), name="c")], settings, ["mxnet"])[0]
    assert timings.estimate(prose_only) == 0.0


def test_longest_first_breaks_ties_by_book_order(settings):
    pairs = book(settings, 4)
    costs = {p: float(p.cells) for p in pairs}
    order = schedule.longest_first(pairs, costs.__getitem__)
    assert [costs[p] for p in order] == sorted(costs.values(), reverse=True)
    for before, after in zip(order, order[1:], strict=False):
        assert costs[before] > costs[after] or before.order < after.order


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8])
def test_shards_cover_every_pair_once_are_stable_and_balanced(settings, count):
    pairs = book(settings, 40)
    rng = random.Random(count)
    costs = {p.key: rng.choice([0.0, 1.5, 3.0, 4.2, 9.0, 30.0]) for p in pairs}

    def cost(pair):
        return costs[pair.key]

    shards = schedule.partition(pairs, count, cost)
    keys = [p.key for shard in shards for p in shard]
    assert sorted(keys) == sorted(p.key for p in pairs) and len(keys) == len(set(keys))  # each pair once
    shuffled = list(pairs)
    rng.shuffle(shuffled)
    assert [[p.key for p in shard] for shard in schedule.partition(shuffled, count, cost)] == \
        [[p.key for p in shard] for shard in shards]  # the same split whatever order the pairs come in
    loads = [sum(map(cost, shard)) for shard in shards]
    assert max(loads) - min(loads) <= max(costs.values())  # balanced within one pair
    assert max(loads) <= sum(loads) / count + max(costs.values())
    for shard in shards:
        assert [p.order for p in shard] == sorted(p.order for p in shard)
    assert [p.key for p in schedule.shard_of(pairs, Shard(count, count), cost)] == [p.key for p in shards[-1]]


def test_pairs_without_cost_are_spread_by_number(settings):
    pairs = book(settings, 9)
    shards = schedule.partition(pairs, 4, lambda pair: 0.0)
    assert sorted(len(shard) for shard in shards) == [6, 7, 7, 7]


@pytest.mark.parametrize(("text", "expected"), [("1/1", Shard(1, 1)), ("2/4", Shard(2, 4)), (" 3/3 ", Shard(3, 3))])
def test_shard_parses(text, expected):
    assert Shard.parse(text) == expected and str(expected) == f"{expected.index}/{expected.count}"


@pytest.mark.parametrize("text", ["0/2", "3/2", "2", "1/0", "a/b", "1/2/3", "-1/2", ""])
def test_shard_rejects(text):
    with pytest.raises(ValueError, match="expected i/N"):
        Shard.parse(text)


def test_timings_change_only_when_a_pair_runs_new_code(settings, tmp_path):
    pairs = book(settings, 2)
    timings = Timings(tmp_path / "timings.json")
    timings.record(pairs[0], "key1", 3.14159, 512)
    timings.record(pairs[0], "key1", 9.0, 900)  # the same code again: the first measurement stands
    assert timings.entries[pairs[0].key] == Timing(3.1, 512, "key1")
    timings.record(pairs[0], "key2", 4.0, None)
    assert timings.entries[pairs[0].key] == Timing(4.0, None, "key2")
    timings.record(pairs[1], "key3", 1.0, 100)
    timings.save()
    text = (tmp_path / "timings.json").read_text()
    assert Timings.load(tmp_path / "timings.json").entries == timings.entries
    assert '   "mxnet": {"seconds": 4.0, "memory_mb": null, "execution": "key2"}' in text
    before = (tmp_path / "timings.json").stat().st_mtime_ns
    timings.save()
    assert (tmp_path / "timings.json").stat().st_mtime_ns == before  # unchanged: not rewritten
    timings.keep_only(pairs[1:])
    assert list(timings.entries) == [pairs[1].key]


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"pairs": {"a": {"mxnet": {"seconds": "x"}}}}'])
def test_an_unreadable_timings_file_is_an_empty_record(tmp_path, content):
    path = tmp_path / "timings.json"
    path.write_text(content)
    assert Timings.load(path).entries == {}
    assert Timings.load(tmp_path / "missing.json").entries == {}


def test_an_empty_record_writes_no_file(tmp_path):
    Timings(tmp_path / "timings.json").save()
    assert not (tmp_path / "timings.json").exists()


@pytest.mark.parametrize(("requested", "cpus", "memory", "measured", "expected"), [
    (None, 4, None, None, 4),          # no memory figure: the cores
    (None, 4, 64000, None, 4),         # plenty of memory
    (None, 8, 4000, None, 2),          # 4000 * 0.75 / 1500 (the assumed kernel)
    (None, 8, 4000, 500, 6),           # the kernels were measured smaller
    (3, 16, 64000, 500, 3),            # -j 3 is honoured
    (12, 2, 4000, 1000, 3),            # -j 12 is capped by memory
    (None, 8, 100, 2000, 1),           # never fewer than one
])
def test_workers_are_the_cores_or_jobs_capped_by_memory(requested, cpus, memory, measured, expected):
    timings = Timings(entries={("a", "pytorch"): Timing(1.0, measured, "k")} if measured else {})
    workers = schedule.workers(requested, ["pytorch"], timings, cpus=cpus, memory_mb=memory)
    assert workers.count == expected
    assert ("capped by memory" in workers.why) == (expected < (requested or cpus))


def test_the_memory_available_is_read_where_the_system_tells_it():
    available = schedule.available_memory_mb()
    assert available is None or available > 0
    assert schedule.cores() >= 1


def test_runner_runs_every_task_at_once_up_to_its_count_and_isolates_failures():
    running, most, lock = set(), [0], threading.Lock()
    outcomes = {}

    def work(task):
        with lock:
            running.add(task)
            most[0] = max(most[0], len(running))
        time.sleep(0.05)
        with lock:
            running.discard(task)
        if task == 2:
            raise RuntimeError("task 2 broke")
        return task * 10

    Runner(3).run(list(range(8)), work, outcomes.__setitem__)
    assert most[0] == 3
    assert {k: v for k, v in outcomes.items() if k != 2} == {k: k * 10 for k in range(8) if k != 2}
    assert isinstance(outcomes[2], RuntimeError)


def test_runner_starts_tasks_in_the_order_given():
    started = []
    Runner(1, started=started.append).run([5, 3, 9], lambda task: task, lambda task, outcome: None)
    assert started == [5, 3, 9]


def test_an_interrupted_runner_cancels_what_has_not_started_and_stops_the_rest():
    started, stopped = [], []

    def done(task, outcome):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Runner(1, started=started.append, stop=lambda: stopped.append(True)).run(
            list(range(5)), lambda task: time.sleep(0.05), done)
    assert stopped == [True] and len(started) < 5
