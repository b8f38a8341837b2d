"""Render the document model as the Sphinx sources of the HTML editions: MyST markdown, with the
outputs of the executed notebooks.

Each page of an edition is one "site notebook": the edition's prose as MyST, so that Sphinx
resolves the references and numbers the headings, figures, tables and labelled equations itself
(``{numref}``, ``{eq}``, ``(label)=`` targets, ``{figure}`` and ``{table}`` directives), cites the
bibliography through sphinxcontrib-bibtex (``{cite:p}``), hands d2lbook's ``eval_rst`` blocks to
Sphinx as reStructuredText (``{eval-rst}``), and every
framework's code cells with the outputs of the committed notebooks, tagged for `sphinx_tabs`, which
groups them into synchronised tab sets. The reader notebooks' markdown is never read back: the
outputs are all the site takes from them. Nothing is executed here. In a preview, a cell whose code
changed since its notebook was executed is shown without outputs.
"""

from __future__ import annotations

from pathlib import Path

from nbformat import NotebookNode

from . import notebooks, translation
from .figures import image_path
from .files import notebook_path
from .model import (
    Chapter,
    Citation,
    Code,
    Equation,
    Figure,
    Heading,
    Inline,
    Markdown,
    Part,
    Prose,
    Reference,
    Rst,
    Table,
    fence,
)
from .settings import Settings
from .texts import text

ROLES = {"numref": "numref", "eqref": "eq"}


class StaleNotebook(Exception):
    pass


def myst_piece(piece: Reference | Citation) -> str:
    if isinstance(piece, Citation):
        return f"{{cite:{'t' if piece.textual else 'p'}}}`{','.join(piece.keys)}`"
    return f"{{{ROLES[piece.role]}}}`{piece.name}`"


def myst_inline(inline: Inline) -> str:
    return "".join(piece if isinstance(piece, str) else myst_piece(piece) for piece in inline)


def myst(part: Part, image: str | None = None) -> str:
    """One part as MyST: labels become targets and ``:name:`` options, references become roles; a
    figure shows ``image`` (the image of the edition's language, see figures.py) where it is given."""
    if isinstance(part, Markdown):
        return myst_inline(part.inline)
    if isinstance(part, Heading):
        heading = myst_inline(part.inline)
        return f"({part.label})=\n{heading}" if part.label else heading
    if isinstance(part, Equation):
        return f"{part.text.rstrip()} ({part.label})" if part.label else part.text
    if isinstance(part, Figure):
        return myst_figure(part, image or part.path)
    if isinstance(part, Table):
        if part.caption is None and not part.label:
            return myst_inline(part.inline)
        title = f" {myst_inline(part.caption)}" if part.caption else ""
        options = [f":name: {part.label}"] if part.label else []
        return "\n".join([f"```{{table}}{title}", *options, "", myst_inline(part.inline), "```"])
    if isinstance(part, Rst):
        return fence("{eval-rst}", part.text)
    return "```{tableofcontents}\n```"


def myst_figure(figure: Figure, image: str) -> str:
    """A ``{figure}`` that Sphinx numbers, with its caption and alternative text; an unlabelled
    figure without options stays a plain image, as the source wrote it."""
    if not figure.label and not figure.options and not figure.alt:
        return myst_inline(figure.inline).replace(f"]({figure.path})", f"]({image})")
    options = ([f":name: {figure.label}"] if figure.label else []) + \
        ([f":alt: {' '.join(figure.alt.split())}"] if figure.alt else []) + [f":{k}: {v}" for k, v in figure.options]
    return "\n".join([f"```{{figure}} {image}", *options, "", myst_inline(figure.caption), "```"])


def myst_prose(block: Prose, chapter: Chapter | None = None, lang: str | None = None) -> str:
    """A prose block in the edition of ``lang``, whose figures show that language's image (the
    block's own language, where it has one: a passage shown untranslated keeps its images). Without
    a chapter, figures keep the path the source wrote."""
    words = block.lang or lang
    return "\n".join(myst(part, image_path(chapter, part, words)
                           if chapter is not None and isinstance(part, Figure) else None)
                     for part in block.parts)


def image_description(outputs: list[NotebookNode]) -> str | None:
    """The alternative text of a cell's image output: the text part that comes with the image (the
    book's plots put a description in the reader's language there). myst-nb takes it from the cell."""
    for output in outputs:
        data = output.get("data", {})
        if any(mime.startswith("image/") for mime in data) and data.get("text/plain"):
            return " ".join("".join(data["text/plain"]).split())
    return None


def code_groups(blocks: list[Code], frameworks: list[str]) -> list[list[tuple[str, Code]]]:
    """Split consecutive code cells into tab sets: a set ends where a framework would repeat."""
    groups: list[list[tuple[str, Code]]] = []
    for block in blocks:
        for framework in (f for f in block.frameworks if f in frameworks):
            if not groups or any(f == framework for f, _ in groups[-1]):
                groups.append([])
            groups[-1].append((framework, block))
    return groups


def framework_prose_tabs(blocks: list[Prose], settings: Settings, chapter: Chapter, lang: str) -> str:
    """Consecutive framework-specific prose becomes one MyST tab set, in the same sync group."""
    items = []
    for framework in settings.frameworks:
        texts = [myst_prose(b, chapter, lang) for b in blocks if b.frameworks and framework.name in b.frameworks]
        if texts:
            body = "\n\n".join(texts)
            items.append(f":::{{tab-item}} {framework.display_name}\n:sync: {framework.name}\n\n{body}\n:::")
    return "::::{tab-set}\n:sync-group: framework\n\n" + "\n\n".join(items) + "\n::::"


def translation_notice(state: str, text_lang: str, lang: str, settings: Settings, edit_url: str) -> tuple[str, str]:
    """The MyST that opens and closes a passage shown with a notice (see sphinx_translation.py)."""
    note = f"{text(lang, 'translation_' + state)} [{text(lang, 'translation_edit')}]({edit_url})"
    return (f"```{{translation-notice}} {state} {settings.language(text_lang).tag}\n{note}\n```",
            "```{translation-end}\n```")


def stored_cells(chapter: Chapter, framework: str, lang: str, settings: Settings,
                 preview: bool) -> dict[int, NotebookNode | None]:
    """The committed notebook's code cells, by the id of the model's code block they hold the
    outputs of. A notebook missing or holding other code than the chapter is stale: an error
    (StaleNotebook), except in a preview, where a changed cell has no outputs and the others keep theirs."""
    cells = chapter.code_cells(framework)
    path = notebook_path(settings.notebooks_dir, lang, framework, chapter)
    stored = notebooks.load(path)
    code = [c for c in stored.cells if c.cell_type == "code"][1:] if stored else []
    if [c.source for c in code] == [b.source for b in cells]:
        return dict(zip((id(b) for b in cells), code, strict=True))
    if not preview:
        shown = path.relative_to(settings.root) if path.is_relative_to(settings.root) else Path(path)
        raise StaleNotebook(f"{shown} is missing or stale: run `make notebooks` "
                            "(or `make preview`, which runs no code)")
    by_source: dict[str, list[NotebookNode]] = {}
    for cell in code:
        by_source.setdefault(cell.source, []).append(cell)
    return {id(b): (by_source[b.source].pop(0) if by_source.get(b.source) else None) for b in cells}


def site_notebook(chapter: Chapter, lang: str, settings: Settings, preview: bool = False) -> NotebookNode:
    """One page of one edition: the language's prose and every framework's executed cells (in a
    ``preview``, a cell whose code changed since its notebook was executed has no outputs)."""
    executed = {framework: stored_cells(chapter, framework, lang, settings, preview)
                for framework in settings.framework_names if chapter.code_cells(framework)}
    cells: list[NotebookNode] = []
    markdown: list[str] = []
    pending_code: list[Code] = []
    pending_tabs: list[Prose] = []
    group_number = 0
    shown = translation.edition_blocks(chapter, lang, settings)
    edit_url = settings.repository.edit_url(f"chapters/{chapter.name}.md")
    notice: list = [None, ""]  # the language block whose notice is open, and the text that closes it

    def flush_tabs() -> None:
        if pending_tabs:
            markdown.append(framework_prose_tabs(pending_tabs, settings, chapter, lang))
            pending_tabs.clear()

    def close_notice() -> None:
        flush_tabs()
        if notice[0] is not None:
            markdown.append(notice[1])
        notice[:] = [None, ""]

    def flush() -> None:
        nonlocal group_number
        close_notice()
        if markdown:
            cells.append(notebooks.new_cell("markdown", "\n\n".join(markdown)))
            markdown.clear()
        for group in code_groups(pending_code, list(executed)):
            group_number += 1
            solution = any(block.solution for _, block in group)
            for framework, block in sorted(group, key=lambda item: settings.framework_names.index(item[0])):
                stored = executed[framework][id(block)]
                cell = notebooks.new_cell("code", block.source)
                if stored is not None:
                    cell.outputs, cell.execution_count = stored.outputs, stored.execution_count
                cell.metadata["tags"] = [f"fw-{framework}", f"group-{group_number}"] + (
                    ["solution"] if solution else [])
                if stored is not None and (alt := image_description(stored.outputs)):
                    cell.metadata["mystnb"] = {"image": {"alt": alt}}
                cells.append(cell)
        pending_code.clear()

    for block in chapter.blocks:
        if isinstance(block, Code):
            if markdown or pending_tabs:
                flush()
            pending_code.append(block)
        elif block.lang is None or block.block in shown:
            if pending_code:
                flush()
            if notice[0] is not None and notice[0] != block.block:
                close_notice()
            if block.block is not None and notice[0] != block.block and shown[block.block] is not None:
                flush_tabs()
                opening, closing = translation_notice(*shown[block.block], lang, settings, edit_url)  # type: ignore[misc]
                markdown.append(opening)
                notice[:] = [block.block, closing]
            if block.frameworks is None:
                flush_tabs()
                markdown.append(myst_prose(block, chapter, lang))
            else:
                pending_tabs.append(block)
    flush()
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index}"
    return notebooks.new_notebook(cells, {"language_info": notebooks.LANGUAGE_INFO})
