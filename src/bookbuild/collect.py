"""A build split over machines: each exports its shard's notebooks, one collects them all.

``bookbuild notebooks --shard i/N --export DIR`` builds one shard and copies its notebooks into
``DIR/notebooks/…``. ``bookbuild collect FOLDER`` takes every such ``notebooks/`` tree below FOLDER
(one per shard, as CI downloads its artifacts), checks that together they are exactly what a full
build writes (every notebook once, none extra, each fresh for the chapters and kernel environments
of this checkout), and only then puts them into notebooks/, adding the shards' measurements to the
timings record. On any problem notebooks/ is untouched.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .build import stale_notebooks
from .files import notebook_path, write_atomic
from .model import Chapter
from .schedule import TIMINGS_FILE, Pair, Timings, book_pairs, timings_path
from .settings import Settings


def export(pairs: Sequence[Pair], settings: Settings, dest: Path, timings: Timings | None = None) -> list[Path]:
    """Copy the notebooks of ``pairs`` (every language) into ``dest``/notebooks/, with their part of
    the timings record; return the notebooks copied."""
    if timings is not None:
        timings.only(pairs, dest / "notebooks" / TIMINGS_FILE).save()
    copied = []
    for pair in pairs:
        for lang in settings.language_codes:
            source = notebook_path(settings.notebooks_dir, lang, pair.framework.name, pair.chapter)
            if source.exists():
                target = dest / source.relative_to(settings.root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                copied.append(target)
    return copied


def notebook_trees(folder: Path) -> list[Path]:
    """The outermost folders named notebooks/ below ``folder`` (or ``folder`` itself)."""
    if folder.name == "notebooks":
        return [folder]
    trees: list[Path] = []
    for tree in sorted(p for p in folder.rglob("notebooks") if p.is_dir()):
        if not any(tree.is_relative_to(outer) for outer in trees):
            trees.append(tree)
    return trees


def collect(chapters: list[Chapter], settings: Settings, folder: Path) -> list[str]:
    """Put the shards' notebooks into notebooks/ if they make a full, fresh build; else say why not."""
    trees = notebook_trees(folder)
    if not trees:
        return [f"{folder}: no notebooks/ folder below it (expected one per shard)"]
    problems = []
    found: dict[Path, tuple[Path, bytes]] = {}
    for tree in trees:
        for path in sorted(tree.rglob("*.ipynb")):
            relative, content = path.relative_to(tree), path.read_bytes()
            if relative in found and found[relative][1] != content:
                problems.append(f"notebooks/{relative.as_posix()}: the shards in {found[relative][0]} and {tree} "
                                "built it differently")
            found.setdefault(relative, (tree, content))
    with tempfile.TemporaryDirectory(prefix="bookbuild-collect-") as tmp:
        staged = Path(tmp) / "notebooks"
        for relative, (_, content) in found.items():
            (staged / relative).parent.mkdir(parents=True, exist_ok=True)
            (staged / relative).write_bytes(content)
        staged.mkdir(exist_ok=True)
        problems += stale_notebooks(chapters, settings, staged)
    if problems:
        return problems
    for relative, (_, content) in sorted(found.items()):
        target = settings.notebooks_dir / relative
        if not target.exists() or target.read_bytes() != content:
            write_atomic(target, content)
    for path in sorted(settings.notebooks_dir.rglob("*.ipynb")):
        if path.relative_to(settings.notebooks_dir) not in found:
            path.unlink()
    record = Timings.load(timings_path(settings))
    for tree in trees:
        record.entries.update(Timings.load(tree / TIMINGS_FILE).entries)
    record.keep_only(book_pairs(chapters, settings))
    record.save()
    return []
