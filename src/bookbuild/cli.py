"""The command line the Makefile calls. Each command is one stage, or a check of one."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import collect, envs, progress
from .build import build_book, convert_file, read_book, stale_notebooks
from .check import forward_references, toc_entries
from .crossref import load_toc
from .model import BookError
from .schedule import Shard
from .settings import ConfigError, Settings, load_settings


def cmd_check(args: argparse.Namespace) -> int:
    settings = load_settings(args.root)
    chapters = read_book(settings)
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


def cmd_notebooks(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    settings = load_settings(args.root)
    frameworks = _frameworks(settings, args.frameworks) if args.frameworks else None
    report = build_book(read_book(settings), settings, frameworks=frameworks, shard=args.shard, jobs=args.jobs,
                        show=progress.display)
    for orphan in report.removed:
        print(f"removed {orphan.relative_to(settings.root)}: no chapter produces it")
    if args.export:
        copied = collect.export(report.pairs, settings, Path(args.export), report.timings)
        print(f"{len(copied)} notebooks of {len(report.pairs)} (section, framework) pairs copied to "
              f"{Path(args.export) / 'notebooks'}")
    return _report(report, start)


def cmd_collect(args: argparse.Namespace) -> int:
    settings = load_settings(args.root)
    chapters = read_book(settings)
    problems = collect.collect(chapters, settings, Path(args.folder))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"the shards in {args.folder} do not make a full build: notebooks/ is unchanged", file=sys.stderr)
        return 1
    print(f"notebooks/ is the full build collected from the shards in {args.folder}")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    settings = load_settings(args.root)
    if args.lang and args.lang not in settings.language_codes:
        print(f"unknown language {args.lang!r} (expected one of {', '.join(settings.language_codes)})",
              file=sys.stderr)
        return 2
    start = time.perf_counter()
    report = convert_file(Path(args.file), settings, Path(args.out), lang=args.lang,
                          execute_code=not args.no_execute, jobs=args.jobs, show=progress.display)
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
    return build_site(read_book(settings), settings, show=progress.display)


def cmd_test_notebooks(args: argparse.Namespace) -> int:
    from .nbval_run import run_nbval

    settings = load_settings(args.root)
    device = "gpu" if args.gpu else "cpu"
    return run_nbval(settings, _frameworks(settings, args.frameworks), args.pytest_args, device,
                     chapters=read_book(settings), jobs=args.jobs, shard=args.shard, show=progress.display)


def _frameworks(settings: Settings, names: list[str]) -> list[str]:
    unknown = [name for name in names if name not in settings.framework_names]
    if unknown:
        raise ConfigError(f"unknown framework {unknown[0]!r} (expected one of {', '.join(settings.framework_names)})")
    return names or list(settings.framework_names)


def _shard(text: str) -> Shard:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bookbuild", description=__doc__)
    parser.add_argument("--root", default=".", help="the book's folder (holds _config.yml)")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="read and check every chapter")
    check.add_argument("--notebooks", action="store_true", help="also fail if notebooks/ is stale")
    check.add_argument("--references", action="store_true",
                       help="also list every :numref: that points forward in the table of contents")
    check.set_defaults(run=cmd_check)

    build = commands.add_parser("notebooks", help="write and execute notebooks/ (cached)")
    build.add_argument("frameworks", nargs="*", help="only these frameworks (default: all)")
    _add_scheduling(build, "run")
    build.add_argument("--export", metavar="DIR", help="also copy the notebooks built into DIR/notebooks/, "
                                                        "for `bookbuild collect` (one folder per shard)")
    build.set_defaults(run=cmd_notebooks)

    gather = commands.add_parser("collect", help="put the shards' exported notebooks into notebooks/, "
                                                 "if together they make a full, fresh build")
    gather.add_argument("folder", help="holds one notebooks/ folder per shard, at any depth")
    gather.set_defaults(run=cmd_collect)

    convert = commands.add_parser("convert", help="convert one chapter file into notebooks")
    convert.add_argument("file")
    convert.add_argument("--out", required=True, help="folder for {lang}/{framework}/ notebooks")
    convert.add_argument("--lang", help="language of a plain d2lbook file (default: the first)")
    convert.add_argument("--no-execute", action="store_true", help="write the notebooks unexecuted")
    convert.add_argument("-j", "--jobs", type=_jobs, metavar="N", help="run at most N frameworks at once")
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
    _add_scheduling(nbval, "test")
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
    except KeyboardInterrupt:
        print("interrupted: the kernels were stopped; what finished before is kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
