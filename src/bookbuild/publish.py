"""Publish the editions as one site, with one copy of what they share.

Each edition is a Sphinx build of its own, with its own copy of the theme's static files (MathJax,
fonts, scripts: tens of MB) and of the book's images. Published side by side, as
``_build/html/<lang>/``, every byte of those would be there twice. So the site keeps one copy at
its root (``_build/html/_static/``, ``_build/html/_images/``) of each asset that is the same in
every edition, and the pages link to it relatively (``../`` one level further up). What differs
between the editions (the language's search stemmer and translations, Sphinx's page options)
stays in each edition. Relative links keep the site readable offline and from a downloaded copy.

A file is shared when it has the same bytes in every edition; a folder below ``_static`` is shared
only as a whole (a script such as MathJax loads the files beside it relative to its own address).

The site is assembled beside ``_build/html`` and swapped in with two renames: a reader never sees
half a site, and a failed build leaves the published one as it was. Files that did not change are
hard links to the previous site's, so that a small edit publishes quickly.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

# The folders of a Sphinx HTML build that hold assets rather than pages.
ASSET_FOLDERS = ("_static", "_images", "_sphinx_design_static")
FOLDERS = "|".join(ASSET_FOLDERS)
REFERENCE = re.compile(rf'(?P<attribute>\b(?:href|src)=")(?P<up>(?:\.\./)*)(?P<path>(?:{FOLDERS})/[^"?#]+)')


def _same_tree(trees: list[Path]) -> bool:
    """Whether every folder holds the same files with the same bytes."""
    first = trees[0]
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    for other in trees[1:]:
        if sorted(p.relative_to(other) for p in other.rglob("*") if p.is_file()) != files:
            return False
        if any(not filecmp.cmp(first / name, other / name, shallow=False) for name in files):
            return False
    return True


def shared_assets(editions: Mapping[str, Path]) -> set[str]:
    """The asset paths (``_static/mathjax``, ``_images/x.png``, relative to an edition's root) that
    are the same in every edition: top-level files one by one, folders as a whole."""
    roots = list(editions.values())
    shared: set[str] = set()
    for folder in ASSET_FOLDERS:
        if not all((root / folder).is_dir() for root in roots):
            continue
        for entry in sorted((roots[0] / folder).iterdir()):
            name = f"{folder}/{entry.name}"
            others = [root / name for root in roots]
            if entry.is_dir():
                if all(p.is_dir() for p in others) and _same_tree(others):
                    shared.add(name)
            elif all(p.is_file() for p in others) and all(
                    filecmp.cmp(entry, p, shallow=False) for p in others[1:]):
                shared.add(name)
    return shared


def _is_shared(path: str, shared: set[str]) -> bool:
    """``_static/mathjax/tex-chtml.js`` is shared if ``_static/mathjax`` is."""
    parts = path.split("/")
    return "/".join(parts[:2]) in shared


def relink(page: str, shared: set[str]) -> str:
    """A page of an edition, linking to the shared copy of each shared asset (one folder up)."""
    def link(match: re.Match[str]) -> str:
        if not _is_shared(match["path"], shared):
            return match[0]
        return f'{match["attribute"]}../{match["up"]}{match["path"]}'

    return REFERENCE.sub(link, page)


def assemble(editions: Mapping[str, Path], target: Path, previous: Path | None = None) -> set[str]:
    """Write the site into ``target`` (which must not exist): each edition's build (``editions``:
    language → Sphinx's html folder) below its language, and the shared assets once at the root.
    Returns the shared asset paths.

    A file that has not changed since the ``previous`` site was assembled (Sphinx left its output
    alone: same modification time) is hard-linked from there rather than copied again: after a
    one-page edit, only that page is written."""
    shared = shared_assets(editions)
    first = next(iter(editions.values()))
    files: dict[Path, tuple[Path, bool]] = {}  # in the site → (Sphinx's output, whether to relink it)
    for name in sorted(shared):
        source = first / name
        for path in ([source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())):
            files[target / name / path.relative_to(source) if source.is_dir() else target / name] = (path, False)
    for lang, root in editions.items():
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(root).as_posix()
            if not _is_shared(name, shared):
                files[target / lang / name] = (path, path.suffix == ".html")
    target.mkdir(parents=True)
    for destination, (source, relinked) in files.items():
        destination.parent.mkdir(parents=True, exist_ok=True)
        before = previous / destination.relative_to(target) if previous else None
        stamp = source.stat().st_mtime_ns
        if before is not None and before.is_file() and before.stat().st_mtime_ns == stamp:
            os.link(before, destination)
        elif relinked:
            destination.write_text(relink(source.read_text(encoding="utf-8"), shared), encoding="utf-8")
            os.utime(destination, ns=(stamp, stamp))
        else:
            shutil.copy2(source, destination)
    return shared


def swap_in(staged: Path, published: Path) -> None:
    """Replace ``published`` by ``staged`` with two renames; the old site is removed after."""
    previous = published.with_name(f".{published.name}.old")
    shutil.rmtree(previous, ignore_errors=True)
    if published.exists():
        published.rename(previous)
    staged.rename(published)
    shutil.rmtree(previous, ignore_errors=True)
