"""The pipeline from chapters to executed notebooks: read, check, write, execute with the cache.

Nothing built is lost: a notebook is written only once all of its run succeeded, atomically, and
``convert`` never replaces an executed notebook with one without outputs, nor writes into the
book's own notebooks/, unless told to with ``--force``. Which pairs execute, in what order and how
many at once is the scheduler's business (schedule.py); running one pair is execute.py's.

The book's library (library.py) is written before anything runs: the kernels import it, from this
checkout (library.kernel_environment). A pair's cache key includes the library module it imports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from . import envs, execute, library, notebooks, progress, schedule
from .check import chapter_files, check_chapter, read_book
from .crossref import book_numbering
from .figures import check_images
from .files import notebook_path
from .model import BookError, Chapter, Diagnostic
from .read import read_chapter
from .render_jupyter import cell_tags, make_notebook
from .requirements import read_environment
from .schedule import Pair, Shard, Timings
from .settings import Framework, Settings

__all__ = ["build_notebooks", "chapter_files", "convert_file", "orphan_notebooks", "read_book", "stale_notebooks"]


@dataclass
class Report:
    kernels_started: int = 0
    written: list[Path] = field(default_factory=list)
    library: list[Path] = field(default_factory=list)  # files of the book's library written or removed
    failures: list[str] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)  # the pairs built (all, or one shard's)
    removed: list[Path] = field(default_factory=list)  # notebooks that no chapter produces any more
    timings: Timings = field(default_factory=Timings)  # the record the build used and updated
    # Executed notebooks whose code changed, left as they are by a build that runs no kernel.
    kept: list[Path] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)  # notebooks no chapter produces, left by such a build


@dataclass
class _Work:
    """One pair's notebooks, one per language, written once its outputs are known."""

    pair: Pair
    paths: dict[str, Path]
    books: dict[str, NotebookNode]
    key: str | None = None  # the execution cache key; None for a pair without code
    executed: dict[str, list[NotebookNode]] = field(default_factory=dict)  # outputs known, by language
    runs: int = 0  # kernels started for it

    @property
    def first(self) -> NotebookNode:
        return next(iter(self.books.values()))

    @property
    def missing(self) -> list[str]:
        """The languages whose outputs are not known yet."""
        return [lang for lang in self.books if lang not in self.executed]

    def found(self, lang: str, cells: list[NotebookNode]) -> None:
        """Outputs of ``lang``'s notebook. Outputs that do not say which language they are in (see
        execute.py) serve every language."""
        self.executed[lang] = cells
        if not execute.languages_of(cells):
            for other in self.missing:
                self.executed[other] = cells

    def apply(self) -> None:
        for lang, notebook in self.books.items():
            if lang in self.executed:
                execute.apply_outputs(notebook, self.executed[lang], self.key)


Deliver = Callable[[Pair, int, Path, NotebookNode], None]  # pair, language index, path, notebook


def book_notebooks(chapters: list[Chapter], settings: Settings, out: Path, report: Report, deliver: Deliver, *,
                   languages=None, execute_code: bool = True, frameworks: Sequence[str] | None = None,
                   shard: Shard | None = None, jobs: int | None = None, timings: Timings | None = None,
                   show: Callable[..., progress.Display] = progress.Display, log=print,
                   library_keys: dict[str, str] | None = None) -> None:
    """Every (language, framework) notebook of the chapters, with the path it belongs at below
    ``out``, executed or with the outputs of an earlier build of the same code, handed to
    ``deliver`` as soon as its pair is done. A pair whose code fails is reported and delivers
    nothing, so its old notebooks stay; it does not stop the others. Without ``execute_code`` no
    kernel starts: code whose outputs are not known yet has none.

    Only pairs whose code or kernel environment changed run; the scheduler picks their order, how
    many run at once (``jobs``, or the cores that memory allows) and, with ``shard``, which pairs
    there are. ``timings`` is the record of earlier runs, updated with the pairs that ran.
    ``library_keys`` fingerprints the book's library by framework (see library.py): by default as
    ``chapters`` make it.
    """
    languages = languages or settings.language_codes
    timings = timings if timings is not None else Timings()
    for framework in settings.frameworks:
        read_environment(framework.requirements)  # a broken one stops the run before anything is written
    report.pairs = schedule.book_pairs(chapters, settings, frameworks)
    if shard:
        report.pairs = schedule.shard_of(report.pairs, shard, timings.estimate)
    report.timings = timings
    library_keys = library_keys or library.fingerprints(chapters, settings)
    numbering = book_numbering(chapters, settings)

    def hand_over(work: _Work) -> None:
        for index, (lang, notebook) in enumerate(work.books.items()):
            deliver(work.pair, index, work.paths[lang], notebook)

    to_run: list[_Work] = []
    for pair in report.pairs:
        work = _Work(pair, {lang: notebook_path(out, lang, pair.framework.name, pair.chapter)
                            for lang in languages},
                     {lang: make_notebook(pair.chapter, lang, pair.framework, settings, numbering)
                      for lang in languages})
        if execute.has_code(work.first):
            work.key = execution_key(pair.chapter, pair.framework, settings, library_keys)
            for lang, path in work.paths.items():
                if lang in work.missing and (cached := execute.cached_outputs(work.key, [path])) is not None:
                    work.found(lang, cached)
            if work.missing and execute_code:
                to_run.append(work)
                continue
            work.apply()
        hand_over(work)
    try:
        if to_run:
            report.failures = _execute(to_run, settings, jobs, timings, show, hand_over, report, log)
    finally:
        if timings.path:
            timings.save()


def execution_code(chapter: Chapter, framework: Framework) -> list[tuple[str, list[str]]]:
    """What a run of the (section, framework) pair executes, the same for every language: the
    framework's setup code, then each code cell with its tags. (The rest of the setup cell installs
    nothing off Colab, and its language line is the same code in every language.)"""
    cells = chapter.code_cells(framework.name)
    return [(framework.setup, ["setup"]), *((cell.source, cell_tags(cell)) for cell in cells)]


def execution_key(chapter: Chapter, framework: Framework, settings: Settings, library_keys: dict[str, str]) -> str:
    """The cache key of a (section, framework) pair, the same in every language (see execute.py)."""
    imports = library.depends_on_library(chapter, framework.name, settings)
    return execute.cache_key(execution_code(chapter, framework), envs.fingerprint(framework.requirements),
                             library_keys[framework.name] if imports else "")


def build_notebooks(chapters: list[Chapter], settings: Settings, out: Path, *, languages=None,
                    execute_code: bool = True, **scheduling) -> Report:
    """Write the book's library, then every (language, framework) notebook of the chapters below
    ``out``, each pair's as soon as it is done (see book_notebooks, which takes the same
    ``scheduling`` options). The library comes first: the kernels import it.

    A (chapter, framework) pair whose code fails leaves its earlier notebooks untouched. Without
    ``execute_code`` (a preview), a notebook that holds outputs is never replaced by one with
    fewer: its code changed, and only running it can make it right again (``report.kept``).
    """
    report = Report(library=library.write_library(chapters, settings))
    written: list[tuple[int, int, Path]] = []

    kept: list[tuple[int, int, Path]] = []

    def save(pair: Pair, index: int, path: Path, notebook: NotebookNode) -> None:
        if not execute_code and refusals([(path, notebook)]):
            kept.append((pair.order, index, path))
        elif notebooks.save(notebook, path):
            written.append((pair.order, index, path))

    book_notebooks(chapters, settings, out, report, save, languages=languages, execute_code=execute_code,
                   **scheduling)
    report.written = [path for *_, path in sorted(written)]
    report.kept = [path for *_, path in sorted(kept)]
    return report


def build_book(chapters: list[Chapter], settings: Settings, *, frameworks: Sequence[str] | None = None,
               shard: Shard | None = None, jobs: int | None = None, execute_code: bool = True,
               show: Callable[..., progress.Display] = progress.Display, log=print) -> Report:
    """notebooks/ from the chapters, with the timings record. A whole build (every framework, no
    shard) also forgets the timings of pairs the book no longer has, and removes the notebooks that
    no chapter produces any more. A shard's build leaves the record as it was, so that every shard
    of one build splits the book the same way; its measurements go with its exported notebooks,
    and `collect` adds them to the record. Without ``execute_code`` (a preview) no kernel starts,
    and nothing is removed: an orphan notebook is only reported (``report.orphans``)."""
    timings = Timings.load(schedule.timings_path(settings))
    whole = frameworks is None and shard is None
    if whole:
        timings.keep_only(schedule.book_pairs(chapters, settings))
    if shard:
        timings.path = None
    report = build_notebooks(chapters, settings, settings.notebooks_dir, frameworks=frameworks, shard=shard,
                             jobs=jobs, timings=timings, show=show, log=log, execute_code=execute_code)
    if whole and not execute_code:
        report.orphans = orphan_notebooks(chapters, settings)
    elif whole:
        report.removed = orphan_notebooks(chapters, settings)
        for orphan in report.removed:
            orphan.unlink()
    return report


def _execute(to_run: list[_Work], settings: Settings, jobs: int | None, timings: Timings,
             show: Callable[..., progress.Display], hand_over: Callable[[_Work], None], report: Report,
             log) -> list[str]:
    """Run the pairs, longest first, several at once; hand each over as it finishes. Returns the
    failures in book order. A pair whose outputs are in the reader's language runs once per
    language (see execute.py), one run after the other on its worker."""
    frameworks = list(dict.fromkeys(work.pair.framework for work in to_run))
    kernels = {framework.name: envs.ensure_kernel(framework, log) for framework in frameworks}
    workers = schedule.workers(jobs, [f.name for f in frameworks], timings)
    log(f"executing {len(to_run)} (section, framework) pairs, {workers.count} at a time ({workers.why})")
    work_of = {work.pair: work for work in to_run}
    order = [work_of[pair] for pair in schedule.longest_first(list(work_of), timings.estimate)]
    interrupt = execute.Interrupt()
    failures: dict[int, str] = {}
    environment = library.kernel_environment(settings)

    def run(work: _Work) -> execute.Execution:
        timeouts = [None] + [cell.timeout for cell in work.pair.chapter.code_cells(work.pair.framework.name)]
        runs: list[execute.Execution] = []
        while work.missing:
            work.runs += 1
            runs.append(execute.run(work.books[work.missing[0]], kernels[work.pair.framework.name],
                                    settings.timeout, timeouts, interrupt, env=environment))
            work.found(work.missing[0], runs[-1].cells)
        memory = [run.memory_mb for run in runs if run.memory_mb is not None]
        return execute.Execution(runs[-1].cells, sum(run.seconds for run in runs), max(memory, default=None))

    with show("notebooks", {str(work.pair): timings.estimate(work.pair) for work in order},
              workers=workers.count, seconds=True) as shown:

        def done(work: _Work, outcome: execute.Execution | Exception) -> None:
            if isinstance(outcome, Exception):
                failures[work.pair.order] = _blame(work.pair.chapter, work.pair.framework.name, outcome)
                return
            work.apply()
            hand_over(work)
            timings.record(work.pair, work.key, outcome.seconds, outcome.memory_mb)

        runner = schedule.Runner(workers.count, started=lambda work: shown.start(str(work.pair)),
                                 finished=lambda work, ok: shown.finish(str(work.pair), ok), stop=interrupt.set)
        runner.run(order, run, done)
    report.kernels_started = sum(work.runs for work in to_run)
    return [failures[order] for order in sorted(failures)]


def orphan_notebooks(chapters: list[Chapter], settings: Settings, folder: Path | None = None) -> list[Path]:
    """Notebooks under notebooks/ (or ``folder``) that no chapter produces any more (a chapter was
    renamed, say)."""
    folder = folder or settings.notebooks_dir
    expected = {notebook_path(folder, lang, framework, chapter)
                for chapter in chapters for framework in settings.framework_names
                for lang in settings.language_codes}
    return [p for p in sorted(folder.rglob("*.ipynb")) if p not in expected]


def stale_notebooks(chapters: list[Chapter], settings: Settings, folder: Path | None = None) -> list[str]:
    """Why each committed notebook (or each one in ``folder``, laid out as notebooks/) differs from
    what the chapters produce now, if it does; and, for the committed ones, each file of the book's
    library."""
    problems = library.stale_library(chapters, settings) if folder is None else []
    folder = folder or settings.notebooks_dir
    numbering = book_numbering(chapters, settings)
    library_keys = library.fingerprints(chapters, settings)
    for chapter in chapters:
        for framework in settings.frameworks:
            for lang in settings.language_codes:
                path = notebook_path(folder, lang, framework.name, chapter)
                shown = Path("notebooks") / path.relative_to(folder)
                notebook = make_notebook(chapter, lang, framework, settings, numbering)
                if not path.exists():
                    problems.append(f"{shown}: missing")
                    continue
                if execute.has_code(notebook):
                    key = execution_key(chapter, framework, settings, library_keys)
                    executed = execute.cached_outputs(key, [path])
                    if executed is None:
                        imports = library.depends_on_library(chapter, framework.name, settings)
                        what = "its code, its kernel environment or the library it imports" if imports \
                            else "its code or kernel environment"
                        problems.append(f"{shown}: {what} changed since it was executed")
                        continue
                    execute.apply_outputs(notebook, executed, key)
                if notebooks.dumps(notebook) != path.read_text(encoding="utf-8"):
                    problems.append(f"{shown}: differs from what chapters/{chapter.name}.md produces")
    for path in orphan_notebooks(chapters, settings, folder):
        problems.append(f"{Path('notebooks') / path.relative_to(folder)}: no chapter produces it")
    return problems


def convert_file(path: Path, settings: Settings, out: Path, *, lang: str | None, execute_code: bool,
                 force: bool = False, jobs: int | None = None,
                 show: Callable[..., progress.Display] = progress.Display, log=print) -> Report:
    """Convert one chapter, bilingual or plain d2lbook, without the book-wide checks.

    Every notebook is made before any is written, and none is written if anything failed or if
    writing would lose something (see ``refusals``).
    """
    problems = _convert_arguments(path, settings, out, force)
    if problems:
        raise BookError(problems)
    chapter = read_chapter(path, settings, language=lang)  # a plain file is in --lang, if given
    problems = [d for d in check_chapter(chapter, settings) if not d.warning] if chapter.bilingual \
        else [*chapter.diagnostics, *check_images(chapter, settings)]
    if not chapter.blocks and not problems:
        problems.append(Diagnostic(chapter.path, 1, "empty chapter: nothing to convert"))
    if problems:
        raise BookError(problems)
    languages = (lang,) if lang else (settings.language_codes if chapter.bilingual
                                     else settings.language_codes[:1])
    report = Report()
    made: list[tuple[int, int, Path, NotebookNode]] = []
    book_notebooks([chapter], settings, out, report,
                   lambda pair, index, target, notebook: made.append((pair.order, index, target, notebook)),
                   languages=languages, execute_code=execute_code, jobs=jobs, show=show, log=log,
                   library_keys=library.fingerprints(None, settings))
    if report.failures:
        return report
    ready = [(target, notebook) for _, _, target, notebook in sorted(made, key=lambda item: item[:2])]
    if not force and (problems := refusals(ready)):
        raise BookError(problems)
    for target, notebook in ready:
        if notebooks.save(notebook, target):
            report.written.append(target)
    return report


def _convert_arguments(path: Path, settings: Settings, out: Path, force: bool) -> list[Diagnostic]:
    problems = []
    if path.is_dir():
        problems.append(Diagnostic(path, None, "is a folder: convert takes one chapter file"))
    elif not path.exists():
        broken = path.is_symlink()
        problems.append(Diagnostic(path, None, "broken link: it points to a file that does not exist" if broken
                                   else "no such file"))
    if out.exists() and not out.is_dir():
        problems.append(Diagnostic(out, None, "--out names a file: it must be a folder (it gets "
                                   "{language}/{framework}/ folders of notebooks)"))
    elif not force and out.resolve().is_relative_to(settings.notebooks_dir):
        problems.append(Diagnostic(out, None, "--out is inside the book's notebooks/, which `bookbuild notebooks` "
                                   "writes and keeps executed: choose another folder, or pass --force"))
    return problems


def refusals(made: list[tuple[Path, NotebookNode]]) -> list[Diagnostic]:
    """Files that writing these notebooks would lose: outputs of an earlier run, where the new
    notebook has none (its code changed and nothing ran), or a file that is not a notebook."""
    found = []
    for path, notebook in made:
        if not path.exists():
            continue
        old = notebooks.load(path)
        if old is None:
            found.append(Diagnostic(path, None, "exists and is not a notebook: not overwritten (--force "
                                    "overwrites it)"))
        elif execute.has_outputs(old) and not execute.has_outputs(notebook):
            found.append(Diagnostic(path, None, "holds executed outputs that this run would drop (the code changed "
                                    "and nothing ran): run without --no-execute, or pass --force"))
    return found


def _blame(chapter: Chapter, framework: str, failure: Exception) -> str:
    """``file:line`` of the failing cell in the chapter (code cell 0 is the setup cell)."""
    if not isinstance(failure, execute.CellFailure):  # the kernel died, or could not start
        return f"{chapter.path}:1: [{framework}] the kernel failed: {type(failure).__name__}: {failure}"
    if failure.index < 0:
        where = f"{chapter.path}:1: [{framework}] the kernel did not start"
    elif failure.index == 0:
        where = f"{chapter.path}:1: [{framework}] the setup cell failed"
    else:
        cell = chapter.code_cells(framework)[failure.index - 1]
        where = f"{chapter.path}:{cell.line}: [{framework}] cell failed"
        if failure.timeout is not None:
            return (f"{chapter.path}:{cell.line}: [{framework}] cell ran past its timeout of {failure.timeout} s: "
                    "give it longer with `#@timeout SECONDS` on its first lines, or raise bookbuild.timeout "
                    "in _config.yml")
    return f"{where}\n{failure.message}"
