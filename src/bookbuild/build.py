"""The pipeline from chapters to executed notebooks: read, check, write, execute with the cache.

Nothing built is lost: a notebook is written only once all of its run succeeded, atomically, and
``convert`` never replaces an executed notebook with one without outputs, nor writes into the
book's own notebooks/, unless told to with ``--force``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from . import envs, execute, notebooks
from .check import chapter_files, check_chapter, read_book
from .crossref import book_numbering
from .files import notebook_path
from .model import BookError, Chapter, Diagnostic
from .read import read_chapter
from .render_jupyter import make_notebook
from .requirements import read_environment
from .settings import Settings

__all__ = ["build_notebooks", "chapter_files", "convert_file", "orphan_notebooks", "read_book", "stale_notebooks"]


@dataclass
class Report:
    kernels_started: int = 0
    written: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # Executed notebooks whose code changed, left as they are by a build that runs no kernel.
    kept: list[Path] = field(default_factory=list)


def book_notebooks(chapters: list[Chapter], settings: Settings, out: Path, report: Report, *, languages=None,
                   execute_code: bool = True, log=print) -> Iterator[tuple[Path, NotebookNode]]:
    """Every (language, framework) notebook of the chapters, with the path it belongs at below
    ``out``, executed or with the outputs of an earlier build of the same code. A (chapter,
    framework) pair whose code fails is reported and yields nothing, so its old notebooks stay.
    Without ``execute_code`` no kernel starts: code whose outputs are not known yet has none.
    """
    languages = languages or settings.language_codes
    for framework in settings.frameworks:
        read_environment(framework.requirements)  # a broken one stops the run before anything is written
    numbering = book_numbering(chapters, settings)
    for chapter in chapters:
        for framework in settings.frameworks:
            paths = {lang: notebook_path(out, lang, framework.name, chapter) for lang in languages}
            books = {lang: make_notebook(chapter, lang, framework, settings, numbering)
                     for lang in languages}
            first = books[languages[0]]
            if execute.has_code(first):
                key = execute.cache_key(first, envs.fingerprint(framework.requirements))
                executed = execute.cached_outputs(key, list(paths.values()))
                if executed is None and execute_code:
                    log(f"executing {chapter.name} [{framework.name}]")
                    report.kernels_started += 1
                    timeouts = [None] + [cell.timeout for cell in chapter.code_cells(framework.name)]
                    try:
                        executed = execute.run(first, envs.ensure_kernel(framework, log), settings.timeout, timeouts)
                    except execute.CellFailure as failure:
                        report.failures.append(_blame(chapter, framework.name, failure))
                        continue
                if executed is not None:
                    for notebook in books.values():
                        execute.apply_outputs(notebook, executed, key)
            for lang, notebook in books.items():
                yield paths[lang], notebook


def build_notebooks(chapters: list[Chapter], settings: Settings, out: Path, *, languages=None,
                    execute_code: bool = True, log=print) -> Report:
    """Write every (language, framework) notebook of the chapters below ``out``.

    A (chapter, framework) pair whose code fails leaves its earlier notebooks untouched. Without
    ``execute_code`` (a preview), a notebook that holds outputs is never replaced by one with
    fewer: its code changed, and only running it can make it right again (``report.kept``).
    """
    report = Report()
    for path, notebook in book_notebooks(chapters, settings, out, report, languages=languages,
                                         execute_code=execute_code, log=log):
        if not execute_code and refusals([(path, notebook)]):
            report.kept.append(path)
            continue
        if notebooks.save(notebook, path):
            report.written.append(path)
    return report


def orphan_notebooks(chapters: list[Chapter], settings: Settings) -> list[Path]:
    """Notebooks under notebooks/ that no chapter produces any more (a chapter was renamed, say)."""
    expected = {notebook_path(settings.notebooks_dir, lang, framework, chapter)
                for chapter in chapters for framework in settings.framework_names
                for lang in settings.language_codes}
    return [p for p in sorted(settings.notebooks_dir.rglob("*.ipynb")) if p not in expected]


def stale_notebooks(chapters: list[Chapter], settings: Settings) -> list[str]:
    """Why each committed notebook differs from what the chapters produce now, if it does."""
    problems = []
    numbering = book_numbering(chapters, settings)
    for chapter in chapters:
        for framework in settings.frameworks:
            for lang in settings.language_codes:
                path = notebook_path(settings.notebooks_dir, lang, framework.name, chapter)
                shown = path.relative_to(settings.root)
                notebook = make_notebook(chapter, lang, framework, settings, numbering)
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
    for path in orphan_notebooks(chapters, settings):
        problems.append(f"{path.relative_to(settings.root)}: no chapter produces it")
    return problems


def convert_file(path: Path, settings: Settings, out: Path, *, lang: str | None, execute_code: bool,
                 force: bool = False, log=print) -> Report:
    """Convert one chapter, bilingual or plain d2lbook, without the book-wide checks.

    Every notebook is made before any is written, and none is written if anything failed or if
    writing would lose something (see ``refusals``).
    """
    problems = _convert_arguments(path, settings, out, force)
    if problems:
        raise BookError(problems)
    chapter = read_chapter(path, settings, language=lang)  # a plain file is in --lang, if given
    problems = [d for d in check_chapter(chapter, settings) if not d.warning] if chapter.bilingual \
        else list(chapter.diagnostics)
    if not chapter.blocks and not problems:
        problems.append(Diagnostic(chapter.path, 1, "empty chapter: nothing to convert"))
    if problems:
        raise BookError(problems)
    languages = (lang,) if lang else (settings.language_codes if chapter.bilingual
                                     else settings.language_codes[:1])
    report = Report()
    made = list(book_notebooks([chapter], settings, out, report, languages=languages,
                               execute_code=execute_code, log=log))
    if report.failures:
        return report
    if not force and (problems := refusals(made)):
        raise BookError(problems)
    for target, notebook in made:
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


def _blame(chapter: Chapter, framework: str, failure: execute.CellFailure) -> str:
    """``file:line`` of the failing cell in the chapter (code cell 0 is the setup cell)."""
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
