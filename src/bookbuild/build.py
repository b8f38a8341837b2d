"""The pipeline from chapters to executed notebooks: read, check, write, execute with the cache.

Which pairs execute, in what order and how many at once is the scheduler's business (schedule.py);
running one pair is execute.py's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from . import envs, execute, notebooks, progress, schedule
from .check import check_book, check_chapter, check_toc
from .crossref import book_anchors
from .model import BookError, Chapter, Diagnostic
from .read import read_chapter
from .schedule import Pair, Shard, Timings
from .settings import Settings


def chapter_files(settings: Settings) -> list[Path]:
    return sorted(settings.chapters_dir.rglob("*.md"))


def read_book(settings: Settings) -> list[Chapter]:
    """Read and check every chapter; raise every problem of every file at once."""
    chapters = [read_chapter(path, settings) for path in chapter_files(settings)]
    problems = check_book(chapters, settings) + check_toc(chapters, settings)
    if problems:
        raise BookError(problems)
    return chapters


@dataclass
class Report:
    kernels_started: int = 0
    written: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)  # the pairs built (all, or one shard's)
    removed: list[Path] = field(default_factory=list)  # notebooks that no chapter produces any more
    timings: Timings = field(default_factory=Timings)  # the record the build used and updated


@dataclass
class _Work:
    """One pair's notebooks, one per language, written once its outputs are known."""

    pair: Pair
    paths: dict[str, Path]
    books: dict[str, NotebookNode]
    key: str | None = None  # the execution cache key; None for a pair without code

    @property
    def first(self) -> NotebookNode:
        return next(iter(self.books.values()))


def build_notebooks(chapters: list[Chapter], settings: Settings, out: Path, *, languages=None,
                    execute_code: bool = True, frameworks: Sequence[str] | None = None, shard: Shard | None = None,
                    jobs: int | None = None, timings: Timings | None = None,
                    show: Callable[..., progress.Display] = progress.Display, log=print) -> Report:
    """Write every (language, framework) notebook of the chapters below ``out``.

    Only pairs whose code or kernel environment changed run; the scheduler picks their order, how
    many run at once (``jobs``, or the cores that memory allows) and, with ``shard``, which ones.
    A pair whose code fails leaves its earlier notebooks untouched and does not stop the others.
    ``timings`` is the record of earlier runs, updated with the pairs that ran.
    """
    languages = languages or settings.language_codes
    timings = timings if timings is not None else Timings()
    pairs = schedule.book_pairs(chapters, settings, frameworks)
    if shard:
        pairs = schedule.shard_of(pairs, shard, timings.estimate)
    report = Report(pairs=pairs, timings=timings)
    written: list[tuple[int, int, Path]] = []
    fingerprints = {f.name: envs.fingerprint(f.requirements) for f in settings.frameworks}
    anchors = book_anchors(chapters, settings)

    def save(work: _Work) -> None:
        for index, (lang, notebook) in enumerate(work.books.items()):
            if notebooks.save(notebook, work.paths[lang]):
                written.append((work.pair.order, index, work.paths[lang]))

    to_run: list[_Work] = []
    for pair in pairs:
        work = _Work(pair, {lang: notebooks.notebook_path(out, lang, pair.framework.name, pair.chapter)
                            for lang in languages},
                     {lang: notebooks.make_notebook(pair.chapter, lang, pair.framework, settings, anchors)
                      for lang in languages})
        if execute_code and execute.has_code(work.first):
            work.key = execute.cache_key(work.first, fingerprints[pair.framework.name])
            executed = execute.cached_outputs(work.key, list(work.paths.values()))
            if executed is None:
                to_run.append(work)
                continue
            for notebook in work.books.values():
                execute.apply_outputs(notebook, executed, work.key)
        save(work)
    try:
        if to_run:
            report.failures = _execute(to_run, settings, jobs, timings, show, save, log)
            report.kernels_started = len(to_run)
    finally:
        if timings.path:
            timings.save()
    report.written = [path for *_, path in sorted(written)]
    return report


def build_book(chapters: list[Chapter], settings: Settings, *, frameworks: Sequence[str] | None = None,
               shard: Shard | None = None, jobs: int | None = None,
               show: Callable[..., progress.Display] = progress.Display, log=print) -> Report:
    """notebooks/ from the chapters, with the timings record. A whole build (every framework, no
    shard) also forgets the timings of pairs the book no longer has, and removes the notebooks that
    no chapter produces any more. A shard's build leaves the record as it was, so that every shard
    of one build splits the book the same way; its measurements go with its exported notebooks,
    and `collect` adds them to the record."""
    timings = Timings.load(schedule.timings_path(settings))
    whole = frameworks is None and shard is None
    if whole:
        timings.keep_only(schedule.book_pairs(chapters, settings))
    if shard:
        timings.path = None
    report = build_notebooks(chapters, settings, settings.notebooks_dir, frameworks=frameworks, shard=shard,
                             jobs=jobs, timings=timings, show=show, log=log)
    if whole:
        report.removed = orphan_notebooks(chapters, settings)
        for orphan in report.removed:
            orphan.unlink()
    return report


def _execute(to_run: list[_Work], settings: Settings, jobs: int | None, timings: Timings,
             show: Callable[..., progress.Display], save: Callable[[_Work], None], log) -> list[str]:
    """Run the pairs, longest first, several at once; save each as it finishes. Returns the failures
    in book order."""
    frameworks = list(dict.fromkeys(work.pair.framework for work in to_run))
    kernels = {framework.name: envs.ensure_kernel(framework, log) for framework in frameworks}
    workers = schedule.workers(jobs, [f.name for f in frameworks], timings)
    log(f"executing {len(to_run)} (section, framework) pairs, {workers.count} at a time ({workers.why})")
    work_of = {work.pair: work for work in to_run}
    order = [work_of[pair] for pair in schedule.longest_first(list(work_of), timings.estimate)]
    interrupt = execute.Interrupt()
    failures: dict[int, str] = {}

    def run(work: _Work) -> execute.Execution:
        return execute.run(work.first, kernels[work.pair.framework.name], interrupt)

    with show("notebooks", {str(work.pair): timings.estimate(work.pair) for work in order},
              workers=workers.count, seconds=True) as shown:

        def done(work: _Work, outcome: execute.Execution | Exception) -> None:
            if isinstance(outcome, Exception):
                failures[work.pair.order] = _blame(work.pair.chapter, work.pair.framework.name, outcome)
                return
            for notebook in work.books.values():
                execute.apply_outputs(notebook, outcome.cells, work.key)
            save(work)
            timings.record(work.pair, work.key, outcome.seconds, outcome.memory_mb)

        runner = schedule.Runner(workers.count, started=lambda work: shown.start(str(work.pair)),
                                 finished=lambda work, ok: shown.finish(str(work.pair), ok), stop=interrupt.set)
        runner.run(order, run, done)
    return [failures[order] for order in sorted(failures)]


def orphan_notebooks(chapters: list[Chapter], settings: Settings, folder: Path | None = None) -> list[Path]:
    """Notebooks under notebooks/ (or ``folder``) that no chapter produces any more (a chapter was
    renamed, say)."""
    folder = folder or settings.notebooks_dir
    expected = {notebooks.notebook_path(folder, lang, framework, chapter)
                for chapter in chapters for framework in settings.framework_names
                for lang in settings.language_codes}
    return [p for p in sorted(folder.rglob("*.ipynb")) if p not in expected]


def stale_notebooks(chapters: list[Chapter], settings: Settings, folder: Path | None = None) -> list[str]:
    """Why each committed notebook (or each one in ``folder``, laid out as notebooks/) differs from
    what the chapters produce now, if it does."""
    folder = folder or settings.notebooks_dir
    problems = []
    anchors = book_anchors(chapters, settings)
    for chapter in chapters:
        for framework in settings.frameworks:
            for lang in settings.language_codes:
                path = notebooks.notebook_path(folder, lang, framework.name, chapter)
                shown = Path("notebooks") / path.relative_to(folder)
                notebook = notebooks.make_notebook(chapter, lang, framework, settings, anchors)
                if not path.exists():
                    problems.append(f"{shown}: missing")
                    continue
                if execute.has_code(notebook):
                    key = execute.cache_key(notebook, envs.fingerprint(framework.requirements))
                    executed = execute.cached_outputs(key, [path])
                    if executed is None:
                        problems.append(f"{shown}: its code or kernel environment changed since it "
                                        "was executed")
                        continue
                    execute.apply_outputs(notebook, executed, key)
                if notebooks.dumps(notebook) != path.read_text(encoding="utf-8"):
                    problems.append(f"{shown}: differs from what chapters/{chapter.name}.md produces")
    for path in orphan_notebooks(chapters, settings, folder):
        problems.append(f"{Path('notebooks') / path.relative_to(folder)}: no chapter produces it")
    return problems


def convert_file(path: Path, settings: Settings, out: Path, *, lang: str | None,
                 execute_code: bool, jobs: int | None = None,
                 show: Callable[..., progress.Display] = progress.Display, log=print) -> Report:
    """Convert one chapter, bilingual or plain d2lbook, without the book-wide checks."""
    chapter = read_chapter(path, settings)
    problems: list[Diagnostic] = list(chapter.diagnostics)
    if chapter.bilingual:
        problems = check_chapter(chapter, settings)
    if problems:
        raise BookError(problems)
    languages = (lang,) if lang else (settings.language_codes if chapter.bilingual
                                     else settings.language_codes[:1])
    return build_notebooks([chapter], settings, out, languages=languages,
                           execute_code=execute_code, jobs=jobs, show=show, log=log)


def _blame(chapter: Chapter, framework: str, failure: Exception) -> str:
    """``file:line`` of the failing cell in the chapter (code cell 0 is the setup cell)."""
    if not isinstance(failure, execute.CellFailure):  # the kernel died, or could not start
        return f"{chapter.path}:1: [{framework}] the kernel failed: {type(failure).__name__}: {failure}"
    if failure.index == 0:
        where = f"{chapter.path}:1: [{framework}] the setup cell failed"
    else:
        cell = chapter.code_cells(framework)[failure.index - 1]
        where = f"{chapter.path}:{cell.line}: [{framework}] cell failed"
    return f"{where}\n{failure.message}"
