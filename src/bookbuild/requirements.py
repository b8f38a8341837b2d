"""Kernel environment files, ``envs/*.txt``: pip requirements files that also say which Python
their packages need, in a comment pip ignores::

    # python: 3.11
    mxnet==1.9.1

They are read as pip reads them, with ``packaging``, into one model that the environment builder,
the environment fingerprint (part of each notebook's execution cache key) and the Colab setup cell
all use. A line that pip would not understand is a ``file:line`` error here, before pip runs.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .files import read_text
from .model import Diagnostic
from .settings import ConfigError

PYTHON = re.compile(r"#\s*python:\s*(?P<version>\S*)\s*$")
VERSION = re.compile(r"[0-9]+\.[0-9]+")
COMMENT = re.compile(r"(^|\s)#.*$")  # pip's rule: a # at the start or after a space
# pip options that say where packages come from, not which: with every version pinned exactly (local
# labels such as +cpu included), moving a source changes nothing that is installed.
SOURCES = ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host")
# pip options that change what is installed: part of the environment.
OPTIONS = ("--pre", "--prefer-binary", "--only-binary", "--no-binary")


@dataclass(frozen=True)
class EnvironmentFile:
    path: Path  # as an author types it, relative to the book
    python: str  # "3.11": the minor version the kernel environment is built with
    requirements: tuple[Requirement, ...]
    sources: tuple[str, ...]  # where packages come from, e.g. "--extra-index-url https://…"
    options: tuple[str, ...]  # other pip options, e.g. "--prefer-binary"

    def pinned_version(self, name: str) -> str | None:
        """The exact version ``name==…`` pins, if the file pins one."""
        for requirement in self.requirements:
            if canonicalize_name(requirement.name) == canonicalize_name(name):
                exact = [s.version for s in requirement.specifier if s.operator == "=="]
                return exact[0] if exact else None
        return None

    @property
    def pins_text(self) -> str:
        """What the environment is made of, in a stable order: each requirement as packaging writes
        it (so that spacing does not matter) and the pip options, but not the package sources (an
        index added or moved rebuilds no environment and re-runs no notebook)."""
        return "\n".join(sorted([*map(str, self.requirements), *self.options]))

    @property
    def fingerprint(self) -> str:
        """What the outputs of a notebook depend on, besides its code: the environment's Python and
        pins. The kernel environment's Python, not the toolchain's: a toolchain on another Python
        re-executes nothing."""
        return hashlib.sha256(f"python{self.python}\n{self.pins_text}".encode()).hexdigest()[:16]


def read_environment(path: Path, root: Path | None = None) -> EnvironmentFile:
    """Read an environment file; ConfigError with every problem at its line (the file named
    relative to ``root``, by default the current folder, as an author types it)."""
    root = root or Path.cwd()
    shown = path.relative_to(root) if path.is_absolute() and path.is_relative_to(root) else path
    return _parse(shown, read_text(path, shown))


@functools.lru_cache(maxsize=64)
def _parse(shown: Path, text: str) -> EnvironmentFile:
    """The file's model; the same text is parsed once (every notebook's setup cell reads its file)."""
    python, requirements, sources, options, problems = None, [], [], [], []
    for number, line in enumerate(text.split("\n"), start=1):
        if found := PYTHON.match(line.strip()):
            if not VERSION.fullmatch(found["version"]):
                problems.append(Diagnostic(shown, number,
                                           f"python: wants a version such as 3.11, got {found['version']!r}"))
            python = found["version"]
            continue
        written = COMMENT.sub("", line).strip()
        if not written:
            continue
        if written.startswith("-"):
            option = written.split()[0].split("=")[0]
            if option in SOURCES + OPTIONS:
                (sources if option in SOURCES else options).append(" ".join(written.split()))
            else:
                problems.append(Diagnostic(shown, number, f"pip option {option!r} is not supported here (only "
                                           f"{', '.join(SOURCES + OPTIONS)}): list every requirement in this file"))
            continue
        try:
            requirements.append(Requirement(written))
        except InvalidRequirement as error:
            reason = str(error).splitlines()[0]
            problems.append(Diagnostic(shown, number, f"not a requirement pip understands: {reason}"))
    if python is None:
        problems.append(Diagnostic(shown, None, "says no Python version: add a line '# python: 3.11' (the Python "
                                   "that its packages need)"))
    if problems:
        raise ConfigError(problems)
    assert python is not None
    return EnvironmentFile(shown, python, tuple(requirements), tuple(sources), tuple(options))
