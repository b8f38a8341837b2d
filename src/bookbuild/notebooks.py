"""Write the notebooks readers run: one per section, language and framework.

A notebook holds its language's prose, its framework's code cells and, first, a setup cell that
prepares Colab when it runs there and seeds the random generators. Everything in it is a function of
the chapter, so that a rebuild is byte-identical and git shows no churn: ids come from content, no
timestamps, fixed metadata.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from packaging.utils import canonicalize_name

from . import bibliography, rst, translation
from .crossref import Anchor, plain_references
from .files import write_atomic
from .model import MISSING, Chapter, Code, Prose, Rst, fence, myst
from .requirements import read_environment
from .settings import Framework, Settings
from .texts import text

# language_info without the Python patch version, which differs from machine to machine.
LANGUAGE_INFO = {
    "name": "python",
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}


def kernel_name(framework: Framework, device: str = "cpu") -> str:
    """The notebooks name the CPU kernel; `make test-gpu` runs them on the GPU one instead."""
    return f"dlbook-{framework.name}-{device}"


def kernel_display_name(framework: Framework, device: str = "cpu") -> str:
    return f"{framework.display_name} ({device.upper()})"


def notebook_path(out: Path, lang: str, framework: str, chapter: Chapter) -> Path:
    """``out/{lang}/{framework}/<chapter>/<section>.ipynb``, mirroring chapters/."""
    return out / lang / framework / f"{chapter.name}.ipynb"


def pinned_release(framework: Framework) -> str:
    """ "MXNet 1.9.1": the display name and the version its requirements pin, for readers' notes."""
    version = read_environment(framework.requirements).pinned_version(framework.name)
    return f"{framework.display_name} {version}" if version else framework.display_name


def colab_packages(framework: Framework) -> list[str]:
    """What the setup cell installs on Colab: the kernel environment's pins, less the kernel itself
    (Colab runs its own), without pip options, and with CPU-only builds named as the full package
    Colab already ships (``tensorflow-cpu==X`` becomes ``tensorflow==X``: the two would overwrite
    each other's files; ``torch==X+cpu`` becomes ``torch==X``, which PyPI serves)."""
    packages = []
    for requirement in read_environment(framework.requirements).requirements:
        name, pin = requirement.name, str(requirement)
        if canonicalize_name(name) == "ipykernel":
            continue
        if name.lower().endswith("-cpu"):
            pin = name[: -len("-cpu")] + pin[len(name):]
        packages.append(re.sub(r"\+cpu\b", "", pin))
    return packages


def setup_source(framework: Framework) -> str:
    """The first code cell: on Colab (detected when it runs), install the framework or say why it
    cannot be; elsewhere do nothing and print nothing; then seed the random generators."""
    if framework.colab:
        arguments = ", ".join(json.dumps(p) for p in colab_packages(framework))
        colab = ('if "google.colab" in sys.modules:  # on Colab: install the versions the book was run with\n'
                 "    import subprocess\n"
                 '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",\n'
                 f"                    {arguments}], check=True)")
    else:
        release = pinned_release(framework)
        colab = ('if "google.colab" in sys.modules:\n'
                 f'    raise RuntimeError("Colab\'s current image (Python 3.13, numpy 2) cannot install {release}: "\n'
                 '                       "launch this notebook in Binder instead (link at the top)")')
    return f"import sys\n{colab}\n\n{framework.setup}"


def colab_note(chapter: Chapter, lang: str, framework: Framework, settings: Settings) -> str:
    """The markdown above the setup cell of a framework Colab cannot run: where to run it instead."""
    path = notebook_path(Path("notebooks"), lang, framework.name, chapter).as_posix()
    return text(lang, "colab_unavailable_notebook", framework=framework.display_name,
                release=pinned_release(framework), binder=settings.repository.binder_url(path))


def cell_tags(cell: Code) -> list[str]:
    """Tags that nbval, myst-nb and JupyterLab understand, from the chapter's cell markers."""
    tags = []
    if cell.varies:
        tags.append("nbval-ignore-output")
    if cell.raises:
        tags.append("raises-exception")  # nbclient, nbval and myst-nb all read this one
    if cell.solution:
        tags.append("solution")
    return tags


def new_cell(cell_type: str, source: str) -> NotebookNode:
    """A cell as nbformat's ``new_*_cell`` makes it, without their check of each cell against the
    schema, which dominates the time to write a long chapter: ``dumps`` checks the whole notebook."""
    cell = {"cell_type": cell_type, "id": "", "metadata": {}, "source": source}
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return nbformat.from_dict(cell)


def code_cell(source: str, tags: list[str]) -> NotebookNode:
    cell = new_cell("code", source)
    if tags:
        cell.metadata["tags"] = tags
    if "solution" in tags:
        cell.metadata["jupyter"] = {"source_hidden": True}  # JupyterLab shows it collapsed
    return cell


def translation_notice(state: str, text_lang: str, lang: str, settings: Settings, edit_url: str) -> tuple[str, str]:
    """The markdown that opens and closes a passage shown with a notice (missing, draft or stale
    translation): a one-line note with an edit link and, around text in another language, a
    ``lang`` attribute for screen readers and browser translation."""
    note = f"> *{text(lang, 'translation_' + state)}* [{text(lang, 'translation_edit')}]({edit_url})"
    if state != MISSING:
        return note, ""
    tag = settings.language(text_lang).tag
    return f'{note}\n\n<div lang="{tag}">', "</div>"


def prose_text(block: Prose) -> str:
    """A prose block as the notebook's markdown starts from: MyST, whose references
    ``plain_references`` then writes out, and reStructuredText as HTML where docutils renders it
    alone (a table, a list), or else as its source, in a code block."""
    if not any(isinstance(part, Rst) for part in block.parts):
        return block.text
    return "\n".join((rst.to_html(part.text) or fence("rst", part.text)) if isinstance(part, Rst) else myst(part)
                     for part in block.parts)


def framework_gap_note(chapter: Chapter, lang: str, framework: Framework, settings: Settings) -> str:
    """What a notebook says for a framework its section has no code for, and where the code is."""
    others = [settings.framework(f).display_name for f in settings.framework_names
              if chapter.has_framework(f)]
    listed = others[0] if len(others) == 1 else (
        f"{', '.join(others[:-1])} {text(lang, 'citation_and')} {others[-1]}")
    return "> " + text(lang, "framework_gap_notebook", framework=framework.display_name, others=listed)


def citation_page(lang: str, settings: Settings) -> str | None:
    """The bibliography page of the online edition, which a notebook's citations link to."""
    return f"{settings.site_url}{lang}/{bibliography.PAGE}.html" if settings.site_url else None


def make_notebook(chapter: Chapter, lang: str, framework: Framework, settings: Settings,
                  anchors: dict[str, Anchor] | None = None) -> NotebookNode:
    """The notebook of one language and framework, without outputs. ``anchors`` numbers the
    book's labels, so that references read "Section 1.2" as in the HTML (see crossref)."""
    cells: list[NotebookNode] = []
    prose: list[str] = []
    shown = translation.edition_blocks(chapter, lang, settings)
    edit_url = settings.repository.edit_url(f"chapters/{chapter.name}.md")
    open_notice: list = [None, ""]  # the language block whose notice is open, and its closing text

    def close_notice() -> None:
        if open_notice[0] is not None and open_notice[1]:
            prose.append(open_notice[1])
        open_notice[:] = [None, ""]

    def flush_prose() -> None:
        close_notice()
        if prose:
            cells.append(new_cell("markdown", "\n\n".join(prose)))
            prose.clear()

    works = bibliography.load(settings.root, settings.bibliography).works if chapter.citations else {}

    def written_out(block: Prose, text_lang: str) -> str:
        return plain_references(prose_text(block), text_lang, chapter, anchors or {}, works,
                                citation_page(lang, settings))

    code = chapter.code_cells(framework.name)
    if framework.name in chapter.framework_gaps(settings.framework_names):
        cells.append(new_cell("markdown", framework_gap_note(chapter, lang, framework, settings)))
    if code:
        if not framework.colab:
            cells.append(new_cell("markdown", colab_note(chapter, lang, framework, settings)))
        cells.append(code_cell(setup_source(framework), ["setup"]))
    for block in chapter.blocks:
        if isinstance(block, Prose):
            if block.block is None:
                if block.shown_to(lang, framework.name):
                    close_notice()
                    prose.append(written_out(block, lang))
                continue
            if block.block not in shown or not (block.frameworks is None or framework.name in block.frameworks):
                continue
            if open_notice[0] != block.block:
                close_notice()
                notice = shown[block.block]
                if notice is not None:
                    opening, closing = translation_notice(*notice, lang, settings, edit_url)
                    prose.append(opening)
                    open_notice[:] = [block.block, closing]
            # The text's own language words its references: "Section 1.2" in an untranslated passage.
            prose.append(written_out(block, block.lang or lang))
        elif framework.name in block.frameworks:
            flush_prose()
            cells.append(code_cell(block.source, cell_tags(block)))
    flush_prose()
    _assign_ids(cells)
    notebook = nbformat.from_dict({"nbformat": nbformat.v4.nbformat, "nbformat_minor": nbformat.v4.nbformat_minor,
                                   "cells": cells})
    notebook.metadata = {
        "kernelspec": {
            "name": kernel_name(framework),
            "display_name": kernel_display_name(framework),
            "language": "python",
        },
        "language_info": LANGUAGE_INFO,
        "bookbuild": {
            "source": f"chapters/{chapter.name}.md",
            "language": lang,
            "framework": framework.name,
        },
    }
    return notebook


def _assign_ids(cells: list[NotebookNode]) -> None:
    """Ids from content, so that the same cell has the same id in every build and language."""
    seen: dict[str, int] = {}
    for cell in cells:
        digest = hashlib.sha256(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
        prefix = "code" if cell.cell_type == "code" else "md"
        seen[digest] = seen.get(digest, 0) + 1
        cell["id"] = f"{prefix}-{digest}" + (f"-{seen[digest]}" if seen[digest] > 1 else "")


def dumps(notebook: NotebookNode) -> str:
    """The notebook's file content, once it is checked against the notebook schema."""
    nbformat.validate(notebook)
    return nbformat.v4.writes_json(notebook) + "\n"  # nbformat.writes would check it again


def save(notebook: NotebookNode, path: Path) -> bool:
    """Write atomically, and only if something changed; returns whether the file changed.

    A reader never sees a half-written notebook, and an interrupted build leaves the old one.
    """
    text = dumps(notebook)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    return True


def load(path: Path) -> NotebookNode | None:
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return None
