"""The pipeline from chapters to executed notebooks: read, check, write, execute with the cache."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from . import envs, execute, notebooks
from .check import check_book, check_chapter, check_toc
from .crossref import book_anchors
from .model import BookError, Chapter, Diagnostic
from .read import read_chapter
from .settings import Settings


def chapter_files(settings: Settings) -> list[Path]:
    return sorted(settings.chapters_dir.rglob("*.md"))


def read_book(settings: Settings, *, strict: bool | None = None,
              warnings: list[Diagnostic] | None = None) -> list[Chapter]:
    """Read and check every chapter; raise every problem of every file at once.

    Warnings (translation gaps) go to ``warnings`` when given; a strict check (``strict``, or by
    default the book's ``translation.strict`` setting) raises them as errors.
    """
    chapters = [read_chapter(path, settings) for path in chapter_files(settings)]
    problems = check_book(chapters, settings) + check_toc(chapters, settings)
    strict = settings.strict if strict is None else strict
    errors = [replace(d, warning=False) if strict else d for d in problems if strict or not d.warning]
    if errors:
        raise BookError(errors)
    if warnings is not None:
        warnings.extend(sorted((d for d in problems if d.warning), key=lambda d: (str(d.path), d.line)))
    return chapters


@dataclass
class Report:
    kernels_started: int = 0
    written: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def build_notebooks(chapters: list[Chapter], settings: Settings, out: Path, *, languages=None,
                    execute_code: bool = True, log=print) -> Report:
    """Write every (language, framework) notebook of the chapters below ``out``.

    A (chapter, framework) pair whose code fails leaves its earlier notebooks untouched.
    """
    report = Report()
    languages = languages or settings.language_codes
    anchors = book_anchors(chapters, settings)
    for chapter in chapters:
        for framework in settings.frameworks:
            if not chapter.has_framework(framework.name):
                continue  # as d2lbook, which writes no notebook for a framework a file never names
            paths = {lang: notebooks.notebook_path(out, lang, framework.name, chapter) for lang in languages}
            books = {lang: notebooks.make_notebook(chapter, lang, framework, settings, anchors)
                     for lang in languages}
            first = books[languages[0]]
            if execute_code and execute.has_code(first):
                key = execute.cache_key(first, envs.fingerprint(framework.requirements))
                executed = execute.cached_outputs(key, list(paths.values()))
                if executed is None:
                    log(f"executing {chapter.name} [{framework.name}]")
                    report.kernels_started += 1
                    try:
                        executed = execute.run(first, envs.ensure_kernel(framework, log))
                    except execute.CellFailure as failure:
                        report.failures.append(_blame(chapter, framework.name, failure))
                        continue
                for notebook in books.values():
                    execute.apply_outputs(notebook, executed, key)
            for lang, notebook in books.items():
                if notebooks.save(notebook, paths[lang]):
                    report.written.append(paths[lang])
    return report


def orphan_notebooks(chapters: list[Chapter], settings: Settings) -> list[Path]:
    """Notebooks under notebooks/ that no chapter produces any more (a chapter was renamed, say)."""
    expected = {notebooks.notebook_path(settings.notebooks_dir, lang, framework, chapter)
                for chapter in chapters for framework in settings.framework_names
                for lang in settings.language_codes}
    return [p for p in sorted(settings.notebooks_dir.rglob("*.ipynb")) if p not in expected]


def stale_notebooks(chapters: list[Chapter], settings: Settings) -> list[str]:
    """Why each committed notebook differs from what the chapters produce now, if it does."""
    problems = []
    anchors = book_anchors(chapters, settings)
    for chapter in chapters:
        for framework in settings.frameworks:
            for lang in settings.language_codes:
                path = notebooks.notebook_path(settings.notebooks_dir, lang, framework.name, chapter)
                shown = path.relative_to(settings.root)
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
    for path in orphan_notebooks(chapters, settings):
        problems.append(f"{path.relative_to(settings.root)}: no chapter produces it")
    return problems


def convert_file(path: Path, settings: Settings, out: Path, *, lang: str | None,
                 execute_code: bool, log=print) -> Report:
    """Convert one chapter, bilingual or plain d2lbook, without the book-wide checks."""
    chapter = read_chapter(path, settings)
    problems: list[Diagnostic] = list(chapter.diagnostics)
    if chapter.bilingual:
        problems = [d for d in check_chapter(chapter, settings) if not d.warning]
    if problems:
        raise BookError(problems)
    languages = (lang,) if lang else (settings.language_codes if chapter.bilingual
                                     else settings.language_codes[:1])
    return build_notebooks([chapter], settings, out, languages=languages,
                           execute_code=execute_code, log=log)


def _blame(chapter: Chapter, framework: str, failure: execute.CellFailure) -> str:
    """``file:line`` of the failing cell in the chapter (code cell 0 is the setup cell)."""
    if failure.index == 0:
        where = f"{chapter.path}:1: [{framework}] the setup cell failed"
    else:
        cell = chapter.code_cells(framework)[failure.index - 1]
        where = f"{chapter.path}:{cell.line}: [{framework}] cell failed"
    return f"{where}\n{failure.message}"
