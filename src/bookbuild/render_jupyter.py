"""Render the document model as the notebooks readers run: one per section, language and framework.

A notebook's markdown is what every Jupyter client renders, JupyterLab, Binder's JupyterLab, Colab
and GitHub alike: CommonMark with GitHub's tables, ``$``/``$$`` math, and a little HTML. Nothing in
it needs Sphinx. What the HTML editions get from Sphinx is written out here, with the numbers
crossref.py computes by Sphinx's rules:

- a section reference is a link "Seção 1.2" / "Section 1.2"; a figure or table reference "Fig. 1.3";
  an equation reference "(1.4)", linked to the equation;
- a labelled equation carries ``\\tag{1.4}``, so that MathJax shows its number;
- a label is an HTML anchor, ``<a id="sec_layers"></a>``, inside the heading (or just before the
  equation, figure or table) it names; JupyterLab scrolls to it when a link names it;
- a figure is its image, in the reader's language where the image has a version in it (figures.py),
  carried inside the cell as a ``data:`` URI, with its alternative text, and its numbered caption.
  Not a relative path, nor a cell attachment: Colab shows neither (its issue 3836 on attachments),
  and a downloaded notebook travels alone;
- d2lbook's ```` ```toc ```` block is the list of the part's sections, numbered and linked;
- a citation is written as the editions' bibliography style words it, "(Glorot and Bengio, 2010)",
  linked to the work's entry on the online edition's bibliography page;
- d2lbook's ```` ```eval_rst ```` block is its HTML where docutils renders it alone (a table, a
  list), or else its source in a code block;
- a framework the section has no code for gets a note saying so, and where the examples are.

Where a link leads depends on where the notebook is read (``Links``):

- the committed notebooks (a local checkout, Binder, Colab) link to the referenced section's
  notebook in the same language and framework by a relative path, ``parameters.ipynb#sec_x``. In a
  checkout and on Binder, JupyterLab opens that file and scrolls to the anchor. Colab opens a
  notebook from GitHub at an address that mirrors the repository's folders
  (``…/blob/main/notebooks/pt/pytorch/…/custom-layer.ipynb``), so the same relative path leads to the
  sibling notebook there too (Colab ignores the anchor: the reader lands at its top);
- a notebook read on its own (the editions' "Download notebook") has no siblings: its links lead to
  the section's page in the online edition, as does any reference to a section that has no
  notebook in this framework.

The setup cell comes first; it carries a short title, and is collapsed in JupyterLab and shown as a
form on Colab. Everything is a function of the chapter, so that a rebuild is byte-identical.
"""

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from docutils.nodes import make_id
from nbformat import NotebookNode
from packaging.utils import canonicalize_name

from . import bibliography, rst, translation
from .crossref import Anchor, Numbering
from .figures import REMOTE, data_uri, image_path
from .files import notebook_path
from .library import depends_on_library
from .model import (
    MISSING,
    Chapter,
    Citation,
    Code,
    Contents,
    Equation,
    Figure,
    Heading,
    Inline,
    Markdown,
    Part,
    Prose,
    Rst,
    Table,
    fence,
)
from .notebooks import (
    LANGUAGE_INFO,
    LANGUAGE_VARIABLE,
    assign_ids,
    kernel_display_name,
    kernel_name,
    new_cell,
    new_notebook,
)
from .requirements import read_environment
from .settings import Framework, Settings
from .texts import text

ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+|$)")
SETUP_TAG = "setup"
COLAB_TITLE = "#@title "  # Colab shows a cell whose first line is this, with cellView "form", as a form


@dataclass(frozen=True)
class Links:
    """Where links to other sections lead: ``online``, the published site's address, for a
    notebook read on its own; None for the committed notebooks, which link to their siblings."""

    online: str | None = None


CHECKOUT = Links()


@dataclass(frozen=True)
class _Page:
    """What rendering one notebook needs to know."""

    chapter: Chapter
    lang: str
    framework: str
    numbering: Numbering
    links: Links
    settings: Settings
    works: dict[str, bibliography.Work]  # the works the book's BibTeX files list, by key

    def link(self, chapter: str, label: str | None = None, kind: str = "section") -> str | None:
        """Where a link to a chapter (at a label of ``kind``) leads from this notebook: within it,
        to its sibling notebook, or to the online edition (see the module docstring); None where
        there is nowhere to lead."""
        if self.links.online is None:
            if chapter == self.chapter.name and label:
                return f"#{label}"
            page = self.numbering.pages.get(chapter)
            if page is not None and self.framework in page.frameworks:
                path = Path(os.path.relpath(f"{chapter}.ipynb", Path(self.chapter.name).parent)).as_posix()
                return path + (f"#{label}" if label else "")
        site = self.links.online or self.settings.site_url
        if not site:
            return None
        fragment = "#" + make_id(("equation-" if kind == "equation" else "") + label) if label else ""
        return f"{site}{self.lang}/chapters/{chapter}.html{fragment}"

    def reference(self, anchor: Anchor | None, name: str, role: str, words: str) -> str:
        """A reference as the reader sees it: "Seção 1.2", linked. ``words``: the language of the
        text around it, which words the reference (an untranslated passage keeps "Section")."""
        if anchor is None:  # `check` reports unknown labels; a lone file converted as is keeps the name
            return f"`{name}`"
        if role == "eqref":
            shown = f"({anchor.number})" if anchor.number else f"`{name}`"
        elif anchor.number is None:
            shown = anchor.titles.get(words) or anchor.titles.get(self.lang) or name
        elif anchor.kind in ("figure", "table"):
            shown = text(words, f"{anchor.kind}_reference", number=anchor.number)
        else:
            shown = text(words, "section_reference", number=anchor.number)
        href = self.link(anchor.chapter, anchor.label, anchor.kind)
        return f"[{shown}]({href})" if href else shown

    def citation(self, citation: Citation, words: str) -> str:
        """"(Glorot and Bengio, 2010)", linked to the work on the online edition's bibliography page
        (a notebook has no bibliography of its own); unlinked where the site has no address."""
        site = self.links.online or self.settings.site_url
        page = f"{site}{self.lang}/{bibliography.PAGE}.html" if site else None
        return bibliography.plain_citation(list(citation.keys), citation.textual, words, self.works, page)


def render_inline(inline: Inline, page: _Page, words: str) -> str:
    anchors = page.numbering.anchors
    return "".join(piece if isinstance(piece, str) else page.citation(piece, words) if isinstance(piece, Citation)
                   else page.reference(anchors.get(piece.name), piece.name, piece.role, words) for piece in inline)


def html_anchor(label: str) -> str:
    return f'<a id="{label}"></a>'


def render_part(part: Part, page: _Page, words: str) -> str:
    """One part of a prose block as Jupyter markdown."""
    if isinstance(part, Markdown):
        return render_inline(part.inline, page, words)
    if isinstance(part, Heading):
        heading = render_inline(part.inline, page, words)
        if not part.label:
            return heading
        prefix = ATX_HEADING.match(heading)
        cut = prefix.end() if prefix else 0  # a setext heading: the anchor opens its first line
        return f"{heading[:cut]}{html_anchor(part.label)}{heading[cut:]}"
    if isinstance(part, Equation):
        if not part.label:
            return part.text
        anchor = page.numbering.anchors.get(part.label)
        tag = anchor.number if anchor and anchor.number else part.label
        body = part.text.rstrip()
        return f"{html_anchor(part.label)}\n{body[:-2]}\\tag{{{tag}}}$$"
    if isinstance(part, Figure):
        return render_figure(part, page, words)
    if isinstance(part, Table):
        table = render_inline(part.inline, page, words)
        if part.caption is None:
            return table
        caption = render_inline(part.caption, page, words)
        number = _number(part.label, page)
        title = f"*{text(words, 'table_reference', number=number)}* {caption}" if number else caption
        anchor = html_anchor(part.label) + "\n" if part.label else ""
        return f"{anchor}{title}\n\n{table}"
    if isinstance(part, Rst):
        return rst.to_html(part.text) or fence("rst", part.text)
    return render_contents(part, page)


def _number(label: str | None, page: _Page) -> str | None:
    anchor = page.numbering.anchors.get(label) if label else None
    return anchor.number if anchor else None


def render_figure(figure: Figure, page: _Page, words: str) -> str:
    """The image of the text's language, carried in the cell (so that it shows wherever the notebook
    is opened, Colab and a downloaded copy included), with its alternative text, and below it its
    caption, numbered as in the HTML when labelled."""
    caption = render_inline(figure.caption, page, words)
    image = image_path(page.chapter, figure, words)
    source = data_uri(page.chapter.folder / image) if page.chapter.folder is not None and not REMOTE.match(image) \
        and (page.chapter.folder / image).is_file() else image
    alt = figure.alt or " ".join(piece for piece in figure.caption if isinstance(piece, str)).strip()
    width = dict(figure.options).get("width")
    if width:  # markdown has no width: the HTML that JupyterLab and Colab accept in markdown does
        shown = f'<img src="{source}" alt="{html.escape(alt)}" width="{html.escape(width)}">'
    else:
        escaped = re.sub(r"([\\\[\]])", r"\\\1", " ".join(alt.split()))  # brackets end an image's text
        shown = f"![{escaped}]({source})"
    number = _number(figure.label, page)
    title = f"*{text(words, 'figure_reference', number=number)}* {caption}" if number else caption
    anchor = html_anchor(figure.label) + "\n" if figure.label else ""
    return f"{anchor}{shown}\n\n{title}"


def render_contents(part: Contents, page: _Page) -> str:
    """d2lbook's ```` ```toc ```` block: the sections of this part, as the HTML lists them."""
    this = page.numbering.pages.get(page.chapter.name)
    lines = []
    for name in this.sections if this else ():
        section = page.numbering.pages.get(name)
        if section is None:
            continue
        title = section.titles.get(page.lang, name)
        shown = f"{section.number}. {title}" if section.number else title
        href = page.link(name)
        lines.append(f"- [{shown}]({href})" if href else f"- {shown}")
    return "\n".join(lines)


def render_prose(block: Prose, page: _Page) -> str:
    words = block.lang or page.lang
    return "\n".join(render_part(part, page, words) for part in block.parts)


def translation_notice(state: str, text_lang: str, lang: str, settings: Settings, edit_url: str) -> tuple[str, str]:
    """The markdown that opens and closes a passage shown with a notice (missing, draft or stale
    translation): a one-line note with an edit link and, around text in another language, a
    ``lang`` attribute for screen readers and browser translation."""
    note = f"> *{text(lang, 'translation_' + state)}* [{text(lang, 'translation_edit')}]({edit_url})"
    if state != MISSING:
        return note, ""
    tag = settings.language(text_lang).tag
    return f'{note}\n\n<div lang="{tag}">', "</div>"


def framework_gap_note(chapter: Chapter, lang: str, framework: Framework, settings: Settings) -> str:
    """What a notebook says for a framework its section has no code for, and where the code is."""
    others = [settings.framework(f).display_name for f in settings.framework_names if chapter.has_framework(f)]
    listed = others[0] if len(others) == 1 else f"{', '.join(others[:-1])} {text(lang, 'citation_and')} {others[-1]}"
    return "> " + text(lang, "framework_gap_notebook", framework=framework.display_name, others=listed)


# -- the setup cell ----------------------------------------------------------------------------


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


def library_requirement(settings: Settings) -> str:
    """What pip installs the book's library from on Colab: the repository's library folder, at the
    branch the notebooks are opened from (_config.yml's repository), so that notebook and library match."""
    repository, library = settings.repository, settings.library
    return f"{library.name} @ git+{repository.url}@{repository.branch}#subdirectory={library.path}"


def setup_source(framework: Framework, lang: str | None = None, library: str | None = None) -> str:
    """The first code cell: tell the kernel the reader's language, in which the book's plots are
    labelled; on Colab (detected when it runs), install the framework, and ``library`` (a pip
    requirement) where the notebook imports the book's library, or say why it cannot be; elsewhere
    install nothing and print nothing; then seed the random generators. With ``lang``, it opens with
    its title in that language, as a Colab form title. The title and the language line are not part
    of what the cells' ids and the execution cache's key are computed from (notebooks.code_only,
    build.execution_code): one run serves every language."""
    if framework.colab:
        packages = [*colab_packages(framework), *([library] if library else [])]
        arguments = ",\n                    ".join(
            ", ".join(json.dumps(p) for p in packages[i:i + 3]) for i in range(0, len(packages), 3))
        colab = ('if "google.colab" in sys.modules:  # on Colab: install the versions the book was run with\n'
                 "    import subprocess\n"
                 '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",\n'
                 f"                    {arguments}], check=True)")
    else:
        release = pinned_release(framework)
        colab = ('if "google.colab" in sys.modules:\n'
                 f'    raise RuntimeError("Colab\'s current image (Python 3.13, numpy 2) cannot install {release}: "\n'
                 '                       "launch this notebook in Binder instead (link at the top)")')
    title = f"{COLAB_TITLE}{text(lang, 'setup_title')}\n" if lang else ""
    language = f'os.environ["{LANGUAGE_VARIABLE}"] = "{lang}"  # the language of the book\'s plots\n' if lang else ""
    imports = "import os\nimport sys\n" if lang else "import sys\n"
    return f"{title}{imports}{language}{colab}\n\n{framework.setup}"


def setup_cell(framework: Framework, lang: str, library: str | None = None) -> NotebookNode:
    """The setup cell, out of the reader's way: collapsed in JupyterLab, a titled form on Colab."""
    cell = code_cell(setup_source(framework, lang, library), [SETUP_TAG])
    cell.metadata["jupyter"] = {"source_hidden": True}
    cell.metadata["cellView"] = "form"
    return cell


def colab_note(chapter: Chapter, lang: str, framework: Framework, settings: Settings) -> str:
    """The markdown above the setup cell of a framework Colab cannot run: where to run it instead."""
    path = notebook_path(Path("notebooks"), lang, framework.name, chapter).as_posix()
    return text(lang, "colab_unavailable_notebook", framework=framework.display_name,
                release=pinned_release(framework), binder=settings.repository.binder_url(path))


# -- cells and notebooks -----------------------------------------------------------------------


def cell_tags(cell: Code) -> list[str]:
    """Tags that nbval, myst-nb and JupyterLab understand, from the chapter's cell markers."""
    tags = []
    if cell.varies:
        tags.append("nbval-ignore-output")
    if cell.raises:
        tags.append("raises-exception")  # nbclient, nbval, JupyterLab and myst-nb all read this one
    if cell.solution:
        tags.append("solution")
    return tags


def code_cell(source: str, tags: list[str]) -> NotebookNode:
    cell = new_cell("code", source)
    if tags:
        cell.metadata["tags"] = tags
    if "solution" in tags:
        cell.metadata["jupyter"] = {"source_hidden": True}  # JupyterLab shows it collapsed
    return cell


def make_notebook(chapter: Chapter, lang: str, framework: Framework, settings: Settings,
                  numbering: Numbering | None = None, links: Links = CHECKOUT) -> NotebookNode:
    """The notebook of one language and framework, without outputs. ``numbering`` numbers the
    book's labels, so that references read "Section 1.2" as in the HTML (see crossref)."""
    works = bibliography.load(settings.root, settings.bibliography).works if chapter.citations else {}
    page = _Page(chapter, lang, framework.name, numbering or Numbering(), links, settings, works)
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

    if framework.name in chapter.framework_gaps(settings.framework_names):
        cells.append(new_cell("markdown", framework_gap_note(chapter, lang, framework, settings)))
    if chapter.code_cells(framework.name):
        if not framework.colab:
            cells.append(new_cell("markdown", colab_note(chapter, lang, framework, settings)))
        library = library_requirement(settings) if depends_on_library(chapter, framework.name, settings) else None
        cells.append(setup_cell(framework, lang, library))
    for block in chapter.blocks:
        if isinstance(block, Code):
            if framework.name in block.frameworks:
                flush_prose()
                cells.append(code_cell(block.source, cell_tags(block)))
            continue
        if block.block is None:
            if block.shown_to(lang, framework.name):
                close_notice()
                prose.append(render_prose(block, page))
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
        prose.append(render_prose(block, page))  # worded in the text's own language
    flush_prose()
    assign_ids(cells)
    return new_notebook(cells, {
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
    })
