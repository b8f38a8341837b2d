"""The command line the Makefile calls. Each command is one stage, or a check of one."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import envs
from .build import build_notebooks, chapter_files, convert_file, orphan_notebooks, read_book, stale_notebooks
from .check import forward_references, toc_entries
from .crossref import load_toc
from .model import BookError, Diagnostic
from .settings import ConfigError, load_settings


def cmd_check(args: argparse.Namespace) -> int:
    settings = load_settings(args.root)
    warnings: list[Diagnostic] = []
    chapters = read_book(settings, strict=True if args.strict else None, warnings=warnings)
    for warning in warnings:
        print(warning, file=sys.stderr)
    if warnings:
        print(f"{len(warnings)} warnings (translation gaps and glossary findings; "
              "`bookbuild check --strict` fails on them)", file=sys.stderr)
    cells = {f: sum(len(c.code_cells(f)) for c in chapters) for f in settings.framework_names}
    varies = sum(1 for c in chapters for b in c.blocks if getattr(b, "varies", False))
    print(f"checked {len(chapters)} chapters: code cells "
          + ", ".join(f"{f} {n}" for f, n in cells.items())
          + f"; {varies} marked #@varies")
    if args.references:
        ahead = forward_references(chapters, toc_entries(load_toc(settings)))
        for reference in ahead:
            print(reference)
        print(f"{len(ahead)} :numref: references point forward in the table of contents "
              "(a listing to review, not an error)")
    if args.notebooks:
        stale = stale_notebooks(chapters, settings)
        for problem in stale:
            print(problem, file=sys.stderr)
        if stale:
            print(f"{len(stale)} notebooks are stale: run `make notebooks` and commit the result",
                  file=sys.stderr)
            return 1
        print("notebooks/ is what the chapters produce")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from . import status

    settings = load_settings(args.root)
    rows = status.book_coverage(read_book(settings, strict=False), settings)
    print(status.to_json(rows, settings) if args.json else status.to_table(rows, settings), end="")
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    """Record translations in their chapters' lock files (translation.py explains the lock)."""
    from . import translation
    from .read import read_chapter

    settings = load_settings(args.root)
    wanted: dict[Path, set[int] | None] = {}
    for target in args.targets:
        name, _, line = target.rpartition(":") if target.rpartition(":")[2].isdigit() else (target, "", "")
        path = (Path(name)).resolve()
        if not path.is_file():
            print(f"{name}: no such chapter file", file=sys.stderr)
            return 2
        lines = wanted.setdefault(path, set() if line else None)
        if line:
            wanted[path] = (lines or set()) | {int(line)}
    files = list(wanted) or [p.resolve() for p in chapter_files(settings)]
    problems = []
    chapters = []
    for path in files:
        chapter = read_chapter(path, settings)
        problems += chapter.diagnostics
        chapters.append(chapter)
    if problems:
        raise BookError(problems)
    for chapter in chapters:
        if translation.confirm(chapter, settings, wanted.get(chapter.file), everything=args.all):
            print(f"{translation.lock_path(chapter.path)}: updated")
    return 0


def cmd_po(args: argparse.Namespace) -> int:
    from . import po

    settings = load_settings(args.root)
    languages = [args.lang] if args.lang else list(settings.translations)
    if any(lang not in settings.translations for lang in languages):
        print(f"unknown translation language {args.lang!r} (expected one of {', '.join(settings.translations)})",
              file=sys.stderr)
        return 2
    if args.action == "export":
        chapters = read_book(settings, strict=False)
        changed = po.export(chapters, settings, languages)
        print(f"{len(changed)} PO files written under locale/")
    else:
        files = [Path(f) for f in args.files] or po.po_files(settings, languages)
        changed = po.import_po(files, settings)
        for path in changed:
            print(f"{path.relative_to(settings.root)}: updated")
        print(f"{len(files)} PO files read, {len(changed)} files changed")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .importer import import_chapter

    settings = load_settings(args.root)
    out = Path(args.out)
    report = import_chapter(Path(args.source), out, settings, translation_file=Path(args.pt) if args.pt else None,
                            reviewed=args.reviewed, force=args.force)
    for note in report.notes:
        print(note, file=sys.stderr)
    print(f"wrote {out}" + (f" and {out.with_suffix('.lock.yml').name}" if out.with_suffix(".lock.yml").exists()
                            else "") + f"; {len(report.notes)} notes")
    toc = settings.root / "_toc.yml"
    absolute = out.resolve()
    if absolute.is_relative_to(settings.chapters_dir) and toc.exists():
        entry = absolute.relative_to(settings.root).with_suffix("").as_posix()
        if entry not in toc.read_text(encoding="utf-8"):
            print(f"next: list `- file: {entry}` in _toc.yml, then run `make check`")
    return 0


def cmd_notebooks(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    settings = load_settings(args.root)
    chapters = read_book(settings)
    report = build_notebooks(chapters, settings, settings.notebooks_dir)
    for orphan in orphan_notebooks(chapters, settings):
        orphan.unlink()
        print(f"removed {orphan.relative_to(settings.root)}: no chapter produces it")
    return _report(report, start)


def cmd_convert(args: argparse.Namespace) -> int:
    settings = load_settings(args.root)
    if args.lang and args.lang not in settings.language_codes:
        print(f"unknown language {args.lang!r} (expected one of {', '.join(settings.language_codes)})",
              file=sys.stderr)
        return 2
    start = time.perf_counter()
    report = convert_file(Path(args.file), settings, Path(args.out), lang=args.lang,
                          execute_code=not args.no_execute)
    return _report(report, start)


def _report(report, start: float) -> int:
    for failure in report.failures:
        print(failure, file=sys.stderr)
    print(f"{len(report.written)} notebooks written, {report.kernels_started} kernels started "
          f"in {time.perf_counter() - start:.1f} s")
    return 1 if report.failures else 0


def cmd_envs(args: argparse.Namespace) -> int:
    settings = load_settings(args.root)
    device = "gpu" if args.gpu else "cpu"
    for name in args.frameworks or settings.framework_names:
        framework = settings.framework(name)
        kernel = envs.ensure_kernel(framework, device=device)
        print(f"{name}: kernel {kernel} -> {envs.installed_python(framework, device)}")
    return 0


def cmd_env_path(args: argparse.Namespace) -> int:
    """Print (building it first) the environment of a requirements file, e.g. the d2lbook one."""
    requirements = Path(args.requirements)
    print(envs.python_of(envs.ensure_env(requirements.stem, requirements, log=_stderr)))
    return 0


def cmd_html(args: argparse.Namespace) -> int:
    from .site import build_site

    settings = load_settings(args.root)
    return build_site(read_book(settings), settings)


def cmd_test_notebooks(args: argparse.Namespace) -> int:
    from .nbval_run import run_nbval

    settings = load_settings(args.root)
    device = "gpu" if args.gpu else "cpu"
    return run_nbval(settings, args.frameworks or list(settings.framework_names), args.pytest_args, device)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bookbuild", description=__doc__)
    parser.add_argument("--root", default=".", help="the book's folder (holds _config.yml)")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="read and check every chapter")
    check.add_argument("--notebooks", action="store_true", help="also fail if notebooks/ is stale")
    check.add_argument("--strict", action="store_true",
                       help="fail on translation gaps and glossary findings too (also: translation.strict)")
    check.add_argument("--references", action="store_true",
                       help="also list every :numref: that points forward in the table of contents")
    check.set_defaults(run=cmd_check)

    status = commands.add_parser("status", help="translation coverage per chapter and language")
    status.add_argument("--json", action="store_true", help="as JSON, for CI and badges")
    status.set_defaults(run=cmd_status)

    confirm = commands.add_parser(
        "confirm", help="record translations as made from their source's current text (the lock files)")
    confirm.add_argument("targets", nargs="*", metavar="FILE[:LINE]",
                         help="chapters (default: all); with :LINE, also confirm the stale passage there")
    confirm.add_argument("--all", action="store_true", help="confirm stale translations too")
    confirm.set_defaults(run=cmd_confirm)

    gettext = commands.add_parser("po", help="PO files for translation tools: export, or import them back")
    gettext.add_argument("action", choices=["export", "import"])
    gettext.add_argument("files", nargs="*", help="import: the PO files (default: all under locale/)")
    gettext.add_argument("--lang", help="one translation language (default: all)")
    gettext.set_defaults(run=cmd_po)

    importing = commands.add_parser("import", help="turn existing material into a bilingual chapter")
    importing.add_argument("source", help="an interleaved or monolingual file, or the original of --pt")
    importing.add_argument("--pt", help="the translation of SOURCE, as a separate file: aligned by structure")
    importing.add_argument("--out", required=True, help="the chapter to write, e.g. chapters/part/name.md")
    importing.add_argument("--reviewed", action="store_true", help="the translations are reviewed (no :draft:)")
    importing.add_argument("--force", action="store_true", help="replace --out if it exists")
    importing.set_defaults(run=cmd_import)

    build = commands.add_parser("notebooks", help="write and execute notebooks/ (cached)")
    build.set_defaults(run=cmd_notebooks)

    convert = commands.add_parser("convert", help="convert one chapter file into notebooks")
    convert.add_argument("file")
    convert.add_argument("--out", required=True, help="folder for {lang}/{framework}/ notebooks")
    convert.add_argument("--lang", help="language of a plain d2lbook file (default: the first)")
    convert.add_argument("--no-execute", action="store_true", help="write the notebooks unexecuted")
    convert.set_defaults(run=cmd_convert)

    kernels = commands.add_parser("envs", help="create kernel environments and kernelspecs")
    kernels.add_argument("frameworks", nargs="*")
    kernels.add_argument("--gpu", action="store_true", help="the GPU kernels (CUDA builds, several GB each)")
    kernels.set_defaults(run=cmd_envs)

    env_path = commands.add_parser("env-python", help="python of an environment for a requirements file")
    env_path.add_argument("requirements")
    env_path.set_defaults(run=cmd_env_path)

    html = commands.add_parser("html", help="build both HTML editions from notebooks/")
    html.set_defaults(run=cmd_html)

    nbval = commands.add_parser("test-notebooks", help="re-run every notebook with nbval")
    nbval.add_argument("frameworks", nargs="*")
    nbval.add_argument("--gpu", action="store_true",
                       help="on the GPU kernels; a framework whose GPU environment is missing is NOT TESTED")
    nbval.add_argument("--pytest-args", nargs=argparse.REMAINDER, default=[])
    nbval.set_defaults(run=cmd_test_notebooks)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except BookError as error:
        print(error, file=sys.stderr)
        print(f"{len(error.diagnostics)} errors", file=sys.stderr)
        return 1
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
