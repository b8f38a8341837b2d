"""Reading the book's text files, writing every generated file, and where the notebooks lie: the
places where a file system meets the toolchain.

Reading accepts what editors write (a UTF-8 byte-order mark, CRLF or CR line ends) and turns what
cannot be text into a diagnostic at its line: bytes that are not UTF-8, NUL bytes; YAML files keep
their nodes, so that a problem found in their data is blamed on its line too. Writing is
atomic: a temporary file beside the target, then a rename, so that a reader never sees half a file
and an interrupted or failed build leaves the old one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .model import BookError, Chapter, Diagnostic

BOM = b"\xef\xbb\xbf"


def decode(raw: bytes, shown: Path) -> str:
    """The text of a UTF-8 file with ``\\n`` line ends; BookError at the first line that is not text."""
    raw = raw.removeprefix(BOM)
    if (nul := raw.find(b"\0")) >= 0:
        raise BookError([Diagnostic(shown, raw.count(b"\n", 0, nul) + 1,
                                    "NUL byte: this is binary data, not a UTF-8 text file")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        bad = raw[error.start:error.start + 1].hex()
        raise BookError([Diagnostic(shown, line, f"byte 0x{bad} is not UTF-8: save the file as UTF-8 "
                                    "(it looks like another encoding, or binary data)")]) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: Path, shown: Path | None = None) -> str:
    """A text file of the book, or BookError naming it as ``shown`` (the path an author types)."""
    shown = shown or path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problem = "broken link: it points to a file that does not exist" if path.is_symlink() else "no such file"
        raise BookError([Diagnostic(shown, None, problem)]) from None
    except IsADirectoryError:
        raise BookError([Diagnostic(shown, None, "is a folder, not a file")]) from None
    except OSError as error:
        raise BookError([Diagnostic(shown, None, f"cannot be read: {error.strerror}")]) from None
    return decode(raw, shown)


def notebook_path(out: Path, lang: str, framework: str, chapter: Chapter | str) -> Path:
    """``out/{lang}/{framework}/<chapter>.ipynb``, mirroring chapters/ (``chapter``: one, or its name)."""
    name = chapter if isinstance(chapter, str) else chapter.name
    return out / lang / framework / f"{name}.ipynb"


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside ``path``, then rename: the old file stays until the new
    one is complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644  # mkstemp's own is 0o600
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as file:
            file.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class YamlFile:
    """A YAML file's data, with the nodes it came from: every problem in it is blamed on its line."""

    shown: Path
    data: Any
    node: yaml.Node | None

    def line(self, keys: Sequence[str | int]) -> int:
        """The line of the entry at ``keys`` (of its key, in a mapping), or of the deepest entry
        on the way that exists."""
        node, line = self.node, 1
        for key in keys:
            if isinstance(node, yaml.MappingNode):
                found = [(k, v) for k, v in node.value if k.value == str(key)]
                if not found:
                    break
                line, node = found[0][0].start_mark.line + 1, found[0][1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                break
        return line

    def diagnostic(self, keys: Sequence[str | int], message: str) -> Diagnostic:
        return Diagnostic(self.shown, self.line(keys), message)


def load_yaml(path: Path, shown: Path) -> YamlFile:
    """A YAML file of the book (_config.yml, _toc.yml); BookError at the line and column of a
    syntax error, and at each key that a mapping repeats (YAML would keep the last silently)."""
    text = read_text(path, shown)
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark, context = error.problem_mark or error.context_mark, error.context_mark
        message = str(error.problem or error.context)
        if error.context and context and mark and context.line != mark.line:
            message += f" ({error.context} at line {context.line + 1})"
        raise BookError([Diagnostic(shown, mark.line + 1 if mark else 1, f"YAML syntax: {message}",
                                    mark.column + 1 if mark else None)]) from None
    except yaml.YAMLError as error:  # a character YAML does not allow, say
        position = getattr(error, "position", 0)
        reason = getattr(error, "reason", str(error))
        raise BookError([Diagnostic(shown, text.count("\n", 0, position) + 1, f"YAML: {reason}")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    repeated = []
    for mapping in _mappings(node):
        seen: dict[str, int] = {}
        for key, _ in mapping.value:
            line = key.start_mark.line + 1
            if str(key.value) in seen:
                repeated.append(Diagnostic(shown, line, f"key {key.value!r} repeats the one at line "
                                           f"{seen[str(key.value)]}: YAML would keep only this one"))
            seen.setdefault(str(key.value), line)
    if repeated:
        raise BookError(repeated)
    return YamlFile(shown, data, node)


def _mappings(node: yaml.Node | None) -> list[yaml.MappingNode]:
    found, stack = [], [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            found.append(current)
            stack.extend(value for pair in current.value for value in pair)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return found


def write_all(contents: dict[Path, str]) -> list[Path]:
    """Write several files, each atomically, only those whose content changes; returns those.
    Callers check everything first, so that bad input leaves every file as it was."""
    changed = [path for path, text in contents.items()
               if not path.exists() or path.read_text(encoding="utf-8") != text]
    for path in changed:
        write_atomic(path, contents[path])
    return changed
