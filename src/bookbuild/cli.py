"""The command line the Makefile calls. Each command is one stage, or a check of one.

Exit statuses: 0 done; 1 the book's files have problems (each printed as ``file:line: message``) or
a cell failed; 2 the command line is wrong (one line says how); 3 (``test-notebooks``) not every
framework was tested; 70 an internal error, which is a bug of bookbuild: one line asks for a
report, and ``--debug`` (or BOOKBUILD_DEBUG=1) shows the traceback. Modules load when a command
needs them, so that ``check`` answers quickly.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .model import BookError, Diagnostic
from .settings import config_warnings, load_settings

INTERNAL_ERROR = 70  # EX_SOFTWARE


def cmd_check(args: argparse.Namespace) -> int:
    from .check import read_book

    settings = load_settings(args.root)
    for warning in config_warnings(settings):
        print(warning, file=sys.stderr)
    warnings: list[Diagnostic] = []
    chapters = read_book(settings, strict=True if args.strict else None, warnings=warnings)
    for warning in warnings:
        print(warning, file=sys.stderr)
    if warnings:
        print(f"{len(warnings)} warning{'' if len(warnings) == 1 else 's'} (translation gaps, framework gaps and "
              "glossary findings; `bookbuild check --strict` fails on them)", file=sys.stderr)
    cells = {f: sum(len(c.code_cells(f)) for c in chapters) for f in settings.framework_names}
    varies = sum(1 for c in chapters for b in c.blocks if getattr(b, "varies", False))
    print(f"checked {len(chapters)} chapters: code cells "
          + ", ".join(f"{f} {n}" for f, n in cells.items())
          + f"; {varies} marked #@varies")
    if args.references:
        from .check import forward_references
        from .toc import read_toc

        order = [entry.name for entry in read_toc(settings.root / "_toc.yml", Path("_toc.yml"))]
        ahead = forward_references(chapters, order)
        for reference in ahead:
            print(reference)
        print(f"{len(ahead)} :numref: references point forward in the table of contents "
              "(a listing to review, not an error)")
    if args.notebooks:
        from .build import stale_notebooks

        stale = stale_notebooks(chapters, settings)
        for problem in stale:
            print(problem, file=sys.stderr)
        if stale:
            print(f"{len(stale)} notebooks or library files are stale: run `make notebooks` and commit the result",
                  file=sys.stderr)
            return 1
        print(f"notebooks/ and {settings.library.path}/ are what the chapters produce")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from . import status
    from .check import read_book

    settings = load_settings(args.root)
    rows = status.book_coverage(read_book(settings, strict=False), settings)
    print(status.to_json(rows, settings) if args.json else status.to_table(rows, settings), end="")
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    """Record translations in their chapters' lock files (translation.py explains the lock)."""
    from . import translation
    from .check import chapter_files
    from .read import read_chapter

    settings = load_settings(args.root)
    wanted: dict[Path, set[int] | None] = {}
    for target in args.targets:
        name, _, line = target.rpartition(":") if target.rpartition(":")[2].isdigit() else (target, "", "")
        path = Path(name).resolve()
        if not path.is_file():
            args.parser.error(f"{name}: no such chapter file")
        if line:
            wanted[path] = (wanted.get(path) or set()) | {int(line)}
        else:
            wanted.setdefault(path, None)
    files = list(wanted) or [path.resolve() for path in chapter_files(settings)[0]]
    chapters = [read_chapter(path, settings) for path in files]
    problems = [d for chapter in chapters for d in chapter.diagnostics]
    if problems:
        raise BookError(problems)
    for chapter in chapters:
        if translation.confirm(chapter, settings, wanted.get(chapter.file), everything=args.all):
            print(f"{translation.lock_path(chapter.path)}: updated")
    return 0


def cmd_po(args: argparse.Namespace) -> int:
    from . import po
    from .check import read_book

    settings = load_settings(args.root)
    if args.lang and args.lang not in settings.translations:
        args.parser.error(f"unknown translation language {args.lang!r} "
                          f"(expected one of {', '.join(settings.translations)})")
    languages = [args.lang] if args.lang else list(settings.translations)
    if args.action == "export":
        changed = po.export(read_book(settings, strict=False), settings, languages)
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
    lock = out.with_suffix(".lock.yml")
    print(f"wrote {out}" + (f" and {lock.name}" if lock.exists() else "") + f"; {len(report.notes)} notes")
    toc = settings.root / "_toc.yml"
    absolute = out.resolve()
    if absolute.is_relative_to(settings.chapters_dir) and toc.exists():
        entry = absolute.relative_to(settings.root).with_suffix("").as_posix()
        if entry not in toc.read_text(encoding="utf-8"):
            print(f"next: list `- file: {entry}` in _toc.yml, then run `make check`")
    return 0


def cmd_notebooks(args: argparse.Namespace) -> int:
    from . import collect, progress
    from .build import build_book
    from .check import read_book

    start = time.perf_counter()
    settings = load_settings(args.root)
    frameworks = _frameworks(args, settings) if args.frameworks else None
    report = build_book(read_book(settings), settings, frameworks=frameworks, shard=args.shard, jobs=args.jobs,
                        execute_code=not args.no_execute, show=progress.display)
    for path in report.library:
        print(f"{'wrote' if path.exists() else 'removed'} {path.relative_to(settings.root)} (the book's library)")
    for orphan in report.removed:
        print(f"removed {orphan.relative_to(settings.root)}: no chapter produces it")
    for orphan in report.orphans:
        print(f"{orphan.relative_to(settings.root)}: no chapter produces it (`make notebooks` removes it)")
    for path in report.kept:
        print(f"{path.relative_to(settings.root)}: kept with its outputs; its code changed, and the preview "
              "shows the new code without them (`make notebooks` runs it)")
    if args.export:
        copied = collect.export(report.pairs, settings, Path(args.export), report.timings)
        print(f"{len(copied)} notebooks of {len(report.pairs)} (section, framework) pairs copied to "
              f"{Path(args.export) / 'notebooks'}")
    return _report(report, start)


def cmd_collect(args: argparse.Namespace) -> int:
    from . import collect
    from .check import read_book

    settings = load_settings(args.root)
    problems = collect.collect(read_book(settings), settings, Path(args.folder))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"the shards in {args.folder} do not make a full build: notebooks/ is unchanged", file=sys.stderr)
        return 1
    print(f"notebooks/ is the full build collected from the shards in {args.folder}")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from . import progress
    from .build import convert_file

    settings = load_settings(args.root)
    if args.lang and args.lang not in settings.language_codes:
        args.parser.error(f"unknown language {args.lang!r} (expected one of {', '.join(settings.language_codes)})")
    start = time.perf_counter()
    report = convert_file(Path(args.file), settings, Path(args.out), lang=args.lang,
                          execute_code=not args.no_execute, force=args.force, jobs=args.jobs,
                          show=progress.display)
    return _report(report, start)


def _report(report, start: float) -> int:
    for failure in report.failures:
        print(failure, file=sys.stderr)
    print(f"{len(report.written)} notebooks written, {report.kernels_started} kernels started "
          f"in {time.perf_counter() - start:.1f} s")
    return 1 if report.failures else 0


def cmd_envs(args: argparse.Namespace) -> int:
    from . import envs

    settings = load_settings(args.root)
    device = "gpu" if args.gpu else "cpu"
    for name in args.frameworks or settings.framework_names:
        if name not in settings.framework_names:
            args.parser.error(f"unknown framework {name!r} (expected one of {', '.join(settings.framework_names)})")
        framework = settings.framework(name)
        kernel = envs.ensure_kernel(framework, device=device, library=settings.library_dir)
        print(f"{name}: kernel {kernel} -> {envs.installed_python(framework, device)}")
    return 0


def cmd_env_path(args: argparse.Namespace) -> int:
    """Print (building it first) the environment of a requirements file, e.g. the d2lbook one."""
    from . import envs

    requirements = Path(args.requirements)
    print(envs.python_of(envs.ensure_env(requirements.stem, requirements, log=_stderr)))
    return 0


def cmd_html(args: argparse.Namespace) -> int:
    from . import progress
    from .check import read_book
    from .site import build_site

    settings = load_settings(args.root)
    return build_site(read_book(settings), settings, preview=args.preview, show=progress.display)


def cmd_test_notebooks(args: argparse.Namespace) -> int:
    from . import progress
    from .check import read_book
    from .nbval_run import run_nbval

    settings = load_settings(args.root)
    frameworks = _frameworks(args, settings)
    device = "gpu" if args.gpu else "cpu"
    return run_nbval(settings, frameworks, args.pytest_args, device, chapters=read_book(settings), jobs=args.jobs,
                     shard=args.shard, show=progress.display)


def _frameworks(args: argparse.Namespace, settings) -> list[str]:
    """The frameworks named on the command line (all when none is), each one the book has."""
    unknown = [name for name in args.frameworks if name not in settings.framework_names]
    if unknown:
        args.parser.error(f"unknown framework {unknown[0]!r} (expected one of {', '.join(settings.framework_names)})")
    return args.frameworks or list(settings.framework_names)


def _shard(text: str):
    from .schedule import Shard

    try:
        return Shard.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of kernels, 1 or more, got {text!r}")
    return int(text)


def _add_scheduling(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("-j", "--jobs", type=_jobs, metavar="N",
                        help=f"{what} at most N at once (default: the cores, as far as memory allows)")
    parser.add_argument("--shard", type=_shard, metavar="I/N",
                        help="only shard I of N: a deterministic, time-balanced share of the (section, "
                             "framework) pairs")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


class Parser(argparse.ArgumentParser):
    """argparse, with its complaints on one line."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def make_parser() -> Parser:
    parser = Parser(prog="bookbuild", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--root", default=".", help="the book's folder (holds _config.yml)")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, run, help: str) -> Parser:
        sub = commands.add_parser(name, help=help)
        sub.set_defaults(run=run, parser=sub)
        return sub

    check = command("check", cmd_check, "read and check every chapter")
    check.add_argument("--notebooks", action="store_true", help="also fail if notebooks/ is stale")
    check.add_argument("--references", action="store_true",
                       help="also list every :numref: that points forward in the table of contents")
    check.add_argument("--strict", action="store_true",
                       help="fail on translation gaps, framework gaps and glossary findings too (also: "
                       "translation.strict; bookbuild.every_framework for framework gaps)")

    status = command("status", cmd_status, "translation coverage per chapter and language")
    status.add_argument("--json", action="store_true", help="as JSON, for CI and badges")

    confirm = command("confirm", cmd_confirm,
                      "record translations as made from their source's current text (the lock files)")
    confirm.add_argument("targets", nargs="*", metavar="FILE[:LINE]",
                         help="chapters (default: all); with :LINE, also confirm the stale passage there")
    confirm.add_argument("--all", action="store_true", help="confirm stale translations too")

    gettext = command("po", cmd_po, "PO files for translation tools: export, or import them back")
    gettext.add_argument("action", choices=["export", "import"])
    gettext.add_argument("files", nargs="*", help="import: the PO files (default: all under locale/)")
    gettext.add_argument("--lang", help="one translation language (default: all)")

    importing = command("import", cmd_import, "turn existing material into a bilingual chapter")
    importing.add_argument("source", help="an interleaved or monolingual file, or the original of --pt")
    importing.add_argument("--pt", help="the translation of SOURCE, as a separate file: aligned by structure")
    importing.add_argument("--out", required=True, help="the chapter to write, e.g. chapters/part/name.md")
    importing.add_argument("--reviewed", action="store_true", help="the translations are reviewed (no :draft:)")
    importing.add_argument("--force", action="store_true", help="replace --out if it exists")

    build = command("notebooks", cmd_notebooks, "write and execute notebooks/ (cached)")
    build.add_argument("frameworks", nargs="*", help="only these frameworks (default: all)")
    _add_scheduling(build, "run")
    build.add_argument("--no-execute", action="store_true",
                       help="start no kernel: write every notebook, with the outputs of an earlier run of the "
                       "same code; an executed notebook whose code changed is kept as it is (a preview)")
    build.add_argument("--export", metavar="DIR", help="also copy the notebooks built into DIR/notebooks/, "
                                                        "for `bookbuild collect` (one folder per shard)")

    gather = command("collect", cmd_collect, "put the shards' exported notebooks into notebooks/, "
                                             "if together they make a full, fresh build")
    gather.add_argument("folder", help="holds one notebooks/ folder per shard, at any depth")

    convert = command("convert", cmd_convert, "convert one chapter file into notebooks")
    convert.add_argument("file")
    convert.add_argument("--out", required=True, help="folder for {lang}/{framework}/ notebooks")
    convert.add_argument("--lang", help="language of a plain d2lbook file (default: the first)")
    convert.add_argument("--no-execute", action="store_true",
                         help="start no kernel: keep the outputs of an earlier run of the same code, if any")
    convert.add_argument("--force", action="store_true",
                         help="write even into notebooks/, or over executed notebooks that would lose their outputs")
    convert.add_argument("-j", "--jobs", type=_jobs, metavar="N", help="run at most N frameworks at once")

    kernels = command("envs", cmd_envs, "create kernel environments and kernelspecs")
    kernels.add_argument("frameworks", nargs="*")
    kernels.add_argument("--gpu", action="store_true", help="the GPU kernels (CUDA builds, several GB each)")

    env_path = command("env-python", cmd_env_path, "python of an environment for a requirements file")
    env_path.add_argument("requirements")

    html = command("html", cmd_html, "build both HTML editions from notebooks/")
    html.add_argument("--preview", action="store_true",
                      help="show code that changed since its notebook ran, without outputs, instead of stopping")

    nbval = command("test-notebooks", cmd_test_notebooks, "re-run every notebook with nbval")
    nbval.add_argument("frameworks", nargs="*")
    nbval.add_argument("--gpu", action="store_true",
                       help="on the GPU kernels; a framework whose GPU environment is missing is NOT TESTED")
    _add_scheduling(nbval, "test")
    nbval.add_argument("--pytest-args", nargs=argparse.REMAINDER, default=[])
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = make_parser().parse_args(argv)
    except SystemExit as stop:  # --help, or a command line argparse refuses (one line, status 2)
        return stop.code if isinstance(stop.code, int) else 2
    debug = args.debug or os.environ.get("BOOKBUILD_DEBUG", "") not in ("", "0")
    try:
        return args.run(args)
    except SystemExit as stop:  # a command found its arguments wrong, after reading the book
        return stop.code if isinstance(stop.code, int) else 2
    except BookError as error:
        for diagnostic in error.diagnostics:
            print(diagnostic, file=sys.stderr)
        count = len(error.diagnostics)
        print(f"{count} error{'' if count == 1 else 's'}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bookbuild: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if debug:
            raise
        if isinstance(error, OSError) and error.strerror:  # the file system refused: no space left, say
            where = f"{error.filename}: " if error.filename else ""
            print(f"{where}{error.strerror}", file=sys.stderr)
            return 1
        what = " ".join(f"{type(error).__name__}: {error}".split())[:300]
        print(f"bookbuild: internal error ({what}). This is a bug in bookbuild: please report it with the command "
              "you ran; `bookbuild --debug …` shows the traceback", file=sys.stderr)
        return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
