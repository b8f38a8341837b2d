"""Figures: the image each language shows, and how the notebooks and the editions show it.

A figure is d2lbook's image paragraph, ``![caption](../img/x.svg)``, labelled with ``:label:`` and
described with ``:alt:``. In a bilingual chapter it is written in each language block, caption and
alternative text next to each other, and the ``:label:`` after the blocks names them all.

An image that holds words can have a variant per language: ``../img/pt/x.svg`` beside
``../img/x.svg``. The Portuguese notebooks and edition show the variant where there is one, and
the common image otherwise.

- The notebooks carry each image inside them, as a ``data:`` URI: Colab shows no image that a
  notebook names by a relative path (nor cell attachments), and a downloaded notebook travels
  alone. Under it comes the caption, numbered as in the HTML ("Fig. 5.1").
- The editions get a MyST ``{figure}`` with the language's image, its caption, ``:alt:`` and
  ``:name:``; Sphinx numbers it and copies the image into the site.

A missing image is an error at the figure's line, as is (in the book) a figure without a label
or an alternative text, or outside the language blocks.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
from pathlib import Path, PurePosixPath

from .crossref import Anchor
from .model import Chapter, Diagnostic, Figure, Part, Prose, myst, myst_inline
from .settings import Settings
from .texts import text

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


def figures_of(block: Prose) -> list[Figure]:
    return [part for part in block.parts if isinstance(part, Figure)]


def myst_figure(figure: Figure, image: str) -> str:
    """The figure as the editions' MyST source reads it, with the language's image."""
    if not figure.label and not figure.options and not figure.alt:
        return myst_inline(figure.inline).replace(f"]({figure.path})", f"]({image})")
    options = ([f":name: {figure.label}"] if figure.label else []) + \
        ([f":alt: {' '.join(figure.alt.split())}"] if figure.alt else []) + [f":{k}: {v}" for k, v in figure.options]
    return "\n".join([f"```{{figure}} {image}", *options, "", myst_inline(figure.caption), "```"])


def jupyter_figure(chapter: Chapter, figure: Figure, lang: str, anchors: dict[str, Anchor]) -> str:
    """The figure as plain Jupyter markdown: the image inside the notebook, then the caption under
    its number. (References in the caption stay MyST roles; crossref writes them out next.)"""
    image = image_path(chapter, figure, lang)
    source = image if REMOTE.match(image) or chapter.folder is None else data_uri(chapter.folder / image)
    alt = figure.alt or " ".join(piece for piece in figure.caption if isinstance(piece, str)).strip()
    width = dict(figure.options).get("width")
    if width:
        shown = f'<img src="{source}" alt="{html.escape(alt)}" width="{html.escape(width)}">'
    else:
        escaped = re.sub(r"([\\\[\]])", r"\\\1", alt)  # brackets end a markdown image's text
        shown = f"![{escaped}]({source})"
    anchor = anchors.get(figure.label or "")
    number = text(lang, "figure_reference", number=anchor.number) if anchor and anchor.number else ""
    caption = myst_inline(figure.caption).strip()
    if number:
        caption = f"**{number}** {caption}".rstrip()
    return f"{shown}\n\n{caption}" if caption else shown


def render_prose(block: Prose, figure_renderer) -> str:
    """A prose block as MyST (Prose.text), with each figure rendered by ``figure_renderer``."""
    return "\n".join(figure_renderer(part) if isinstance(part, Figure) else myst(part) for part in block.parts)


def myst_text(block: Prose, lang: str, chapter: Chapter) -> str:
    """The block for the edition of ``lang``: figures show that language's image."""
    if not figures_of(block):
        return block.text
    return render_prose(block, lambda figure: myst_figure(figure, image_path(chapter, figure, lang)))


def jupyter_text(block: Prose, lang: str, chapter: Chapter, anchors: dict[str, Anchor]) -> str:
    """The block for the notebooks of ``lang``: figures carry their image."""
    if not figures_of(block):
        return block.text
    return render_prose(block, lambda figure: jupyter_figure(chapter, figure, lang, anchors))


def _parts(chapter: Chapter) -> list[tuple[Prose, Part]]:
    return [(block, part) for block in chapter.blocks if isinstance(block, Prose) for part in block.parts]


def check_images(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """Every figure's image must exist, for each language that shows it. (Any chapter, plain d2lbook
    files included: a notebook without its image is broken.)"""
    found = []
    if chapter.folder is None:
        return found
    for block, part in _parts(chapter):
        if not isinstance(part, Figure) or REMOTE.match(part.path):
            continue
        for lang in [block.lang] if block.lang else settings.language_codes:
            image = image_path(chapter, part, lang)
            file = chapter.folder / image
            if not file.is_file():
                where = file.resolve()
                shown = where.relative_to(settings.root) if where.is_relative_to(settings.root) else where
                found.append(Diagnostic(chapter.path, part.line, f"image {part.path!r} not found (no file {shown})"))
                break
    return found


def check_figures(chapter: Chapter, settings: Settings) -> list[Diagnostic]:
    """The book's rules for figures: in each language block, with a label and an alternative text."""
    found = check_images(chapter, settings)
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
