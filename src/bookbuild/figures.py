"""Figures: the image each language shows, and the book's rules for figures.

A figure is d2lbook's image paragraph, ``![caption](../img/x.svg)``, labelled with ``:label:`` and
described with ``:alt:``. In a bilingual chapter it is written in each language block, caption and
alternative text next to each other, and the ``:label:`` after the blocks names them all.

An image that holds words can have a variant per language: ``../img/pt/x.svg`` beside
``../img/x.svg``. The Portuguese notebooks and edition show the variant where there is one, and
the common image otherwise (``image_path``). The two renderers show it their way: render_jupyter
carries the image inside the notebook (``data_uri``), render_myst names it in a ``{figure}``.

A missing image is an error at its line, in any chapter, figure or not (an ``<img>`` in HTML), as
is an image outside the book's folder, which the editions cannot copy. In a chapter with language
blocks, so is a figure without a label or an alternative text, or outside the language blocks; a
plain d2lbook chapter (no language blocks, no ``:alt:``) keeps its figures as d2lbook writes them.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path, PurePosixPath

from .model import Chapter, Diagnostic, Figure, Part, Prose
from .settings import Settings

REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, data: …: not a file of the book
MIME = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
        ".gif": "image/gif", ".webp": "image/webp"}


def variant(path: str, lang: str) -> str:
    """``../img/x.svg`` → ``../img/pt/x.svg``: where a language's own version of an image lives."""
    written = PurePosixPath(path)
    return str(written.parent / lang / written.name)


def image_path(chapter: Chapter, figure: Figure, lang: str | None) -> str:
    """The image a reader of ``lang`` sees, as a path relative to the chapter: the language's variant
    where it exists, the common image otherwise (or a remote address, as written)."""
    if REMOTE.match(figure.path) or lang is None or chapter.folder is None:
        return figure.path
    own = variant(figure.path, lang)
    return own if (chapter.folder / own).is_file() else figure.path


def data_uri(file: Path) -> str:
    mime = MIME.get(file.suffix.lower()) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(file.read_bytes()).decode()}"


def _parts(chapter: Chapter) -> list[tuple[Prose, Part]]:
    return [(block, part) for block in chapter.blocks if isinstance(block, Prose) for part in block.parts]


def _missing(file: Path, source: str, settings: Settings) -> str | None:
    where = file.resolve()
    if not where.is_relative_to(settings.root):
        return f"image {source!r} is outside the book's folder: the editions cannot copy it; move it into the book"
    if not where.is_file():
        return f"image {source!r} not found (no file {where.relative_to(settings.root)})"
    return None


def check_images(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """Every image must exist, inside the book's folder: a figure's for each language that shows it,
    and any other image the prose shows. (Any chapter, plain d2lbook files included: a notebook
    without its image is broken.)"""
    found: list[Diagnostic] = []
    if chapter.folder is None:
        return found
    checked = set()
    for block, part in _parts(chapter):
        if not isinstance(part, Figure) or REMOTE.match(part.path):
            continue
        checked.add((part.path, part.line))
        for lang in [block.lang] if block.lang else settings.language_codes:
            if problem := _missing(chapter.folder / image_path(chapter, part, lang), part.path, settings):
                found.append(Diagnostic(chapter.path, part.line, problem))
                break
    for source, line in chapter.images:  # images that are no figure: inline, or <img> in HTML
        path = source.split("#")[0].split("?")[0]
        if (source, line) in checked or REMOTE.match(source) or source.startswith("//") or not path:
            continue
        file = settings.root / path.lstrip("/") if path.startswith("/") else chapter.folder / path
        if problem := _missing(file, source, settings):
            found.append(Diagnostic(chapter.path, line, problem))
    return found


def check_figures(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """The book's rules for figures: in each language block, with a label and an alternative text."""
    found = check_images(chapter, settings)
    if chapter.plain:
        return found  # d2lbook's own figures: one language, no :alt:
    for block, part in _parts(chapter):
        if not isinstance(part, Figure):
            continue

        def error(message: str, part: Figure = part) -> None:
            found.append(Diagnostic(chapter.path, part.line, message))

        if block.lang is None:
            error("figure outside a language block: its caption needs the words of each language; write the "
                  "image line, with its :alt:, in each language block, and the :label: after the blocks")
            continue
        if not part.label:
            error("figure without a label: the book numbers every figure; add :label:`fig_…` after the "
                  "language blocks that hold it")
        if not part.alt:
            error("figure without an alternative text: add :alt:`…` on the line after the image, saying what "
                  "it shows for readers who cannot see it")
    return found
