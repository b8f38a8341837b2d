"""Writing files so that a reader, a build or an interruption never sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, content: str) -> None:
    """Write to a temporary file beside ``path``, then rename: the old file stays until the new
    one is complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_all(contents: dict[Path, str]) -> list[Path]:
    """Write several files, each atomically, only those whose content changes; returns those.
    Callers check everything first, so that bad input leaves every file as it was."""
    changed = [path for path, text in contents.items()
               if not path.exists() or path.read_text(encoding="utf-8") != text]
    for path in changed:
        write_atomic(path, contents[path])
    return changed
