"""Assemble and build the two HTML editions from the executed notebooks.

For each language, one "site notebook" per section merges the prose with every framework's code
cells and their stored outputs; `sphinx_tabs` turns the tagged cells into synchronised tab sets.
Each edition's Jupyter Book config is derived from the top-level _config.yml and _toc.yml, so that
there is one source for both; it also carries what `sphinx_reader` shows around each page (the
language switch, the "Run this page" links) and the committed notebooks readers download. Nothing
is executed here.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import html
import json
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import nbformat
import yaml
from nbformat import NotebookNode

from . import bibliography, buildable, notebooks, publish, sphinx_citations, status, translation
from .files import write_atomic
from .model import Chapter, Code, Prose
from .settings import Settings
from .texts import text

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml where PyYAML has it: the config is long
# Where each edition serves the committed notebooks of its language, for "Download notebook".
DOWNLOADS = "notebooks"
# The page listing the translation's gaps, at the root of each edition.
STATUS_PAGE = "translation-status"
# Strings `sphinx_reader` puts on the pages, in the edition's language.
PAGE_TEXTS = ("language_switch", "run_title", "open_colab", "launch_binder", "download_notebook", "search")


class StaleNotebook(Exception):
    pass


def code_groups(blocks: list[Code], frameworks: list[str]) -> list[list[tuple[str, Code]]]:
    """Split consecutive code cells into tab sets: a set ends where a framework would repeat."""
    groups: list[list[tuple[str, Code]]] = []
    for block in blocks:
        for framework in (f for f in block.frameworks if f in frameworks):
            if not groups or any(f == framework for f, _ in groups[-1]):
                groups.append([])
            groups[-1].append((framework, block))
    return groups


def framework_prose_tabs(blocks: list[Prose], settings: Settings) -> str:
    """Consecutive framework-specific prose becomes one MyST tab set, in the same sync group."""
    items = []
    for framework in settings.frameworks:
        texts = [b.text for b in blocks if b.frameworks and framework.name in b.frameworks]
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
    """The committed notebook's code cells, by the chapter's cell (``id``) they hold the outputs of.
    A notebook whose code is not the chapter's is stale: an error, except in a preview, where a
    changed cell is shown without outputs (and the others with theirs)."""
    cells = chapter.code_cells(framework)
    path = notebooks.notebook_path(settings.notebooks_dir, lang, framework, chapter)
    stored = notebooks.load(path)
    code = [c for c in stored.cells if c.cell_type == "code"][1:] if stored else []
    if [c.source for c in code] == [b.source for b in cells]:
        return dict(zip((id(b) for b in cells), code, strict=True))
    if not preview:
        raise StaleNotebook(f"{path.relative_to(settings.root)} is missing or stale: run `make notebooks` "
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
            markdown.append(framework_prose_tabs(pending_tabs, settings))
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
                if stored:
                    cell.outputs, cell.execution_count = stored.outputs, stored.execution_count
                cell.metadata["tags"] = [f"fw-{framework}", f"group-{group_number}"] + (
                    ["solution"] if solution else [])
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
                markdown.append(block.text)
            else:
                pending_tabs.append(block)
    flush()
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index}"
    notebook = nbformat.from_dict({"nbformat": nbformat.v4.nbformat, "nbformat_minor": nbformat.v4.nbformat_minor,
                                   "metadata": {"language_info": notebooks.LANGUAGE_INFO}, "cells": cells})
    return notebook


def toolchain_fingerprint() -> str:
    """A hash of the Sphinx extensions, templates and static files of this package. It goes into
    each edition's config, so that changing them rebuilds every page: Sphinx alone would only
    rebuild pages whose source changed, and copy no static file when none did."""
    package = Path(__file__).parent
    files = sorted([*package.glob("sphinx_*.py"), *package.glob("static/*"), *package.glob("templates/*")])
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def run_links(chapter: Chapter, lang: str, settings: Settings) -> list[dict[str, str]]:
    """Per framework with code on the page: where its committed notebook opens (Colab, Binder) and
    where the edition serves it for download; a note instead of Colab where Colab cannot run it."""
    rows = []
    gaps = chapter.framework_gaps(settings.framework_names)
    for framework in settings.frameworks:
        if framework.name in gaps:  # no links to a notebook without code: the row says why
            rows.append({"framework": framework.name, "label": framework.display_name,
                         "gap": text(lang, "framework_gap", framework=framework.display_name)})
            continue
        if not chapter.code_cells(framework.name):
            continue
        path = notebooks.notebook_path(Path("notebooks"), lang, framework.name, chapter).as_posix()
        rows.append({
            "framework": framework.name,
            "label": framework.display_name,
            "colab": settings.repository.colab_url(path) if framework.colab else "",
            "note": "" if framework.colab else text(lang, "colab_unavailable",
                                                    release=notebooks.pinned_release(framework)),
            "binder": settings.repository.binder_url(path),
            "download": f"{DOWNLOADS}/{framework.name}/{chapter.name}.ipynb",
        })
    return rows


def edition_config(settings: Settings, lang: str, chapters: Sequence[Chapter]) -> dict:
    """The edition's Jupyter Book config: the book's, in the edition's language, plus what the
    reader extension needs to draw each page's controls."""
    config = copy.deepcopy(settings.config)
    config.pop("bookbuild", None)
    language = settings.language(lang)
    config["title"] = language.title
    html_options = config.setdefault("html", {})
    html_options["extra_footer"] = text(lang, "footer", license=settings.repository.file_url("LICENSE"))
    html_options.pop("baseurl", None)
    if settings.site_url:  # Sphinx's html_baseurl: each page's <link rel="canonical">
        html_options["baseurl"] = f"{settings.site_url}{lang}/"
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["language"] = language.sphinx_language
    sphinx["bookbuild_frameworks"] = [[f.name, f.display_name] for f in settings.frameworks]
    sphinx["bookbuild_solution_title"] = text(lang, "solution")
    sphinx["bookbuild_language"] = lang
    sphinx["bookbuild_languages"] = [
        [other.code, other.tag, text(other.code, "language_name")]
        for other in settings.languages]
    sphinx["bookbuild_subtitle"] = language.subtitle
    sphinx["bookbuild_default_tab"] = settings.default_tab
    sphinx["bookbuild_texts"] = {key: text(lang, key) for key in PAGE_TEXTS}
    sphinx["bookbuild_run"] = {f"chapters/{chapter.name}": rows for chapter in chapters
                               if (rows := run_links(chapter, lang, settings))}
    sphinx["bookbuild_gaps"] = {f"chapters/{chapter.name}": gaps for chapter in chapters
                                if (gaps := chapter.framework_gaps(settings.framework_names))}
    sphinx["bookbuild_framework_gap"] = text(lang, "framework_gap", framework="{framework}")
    sphinx["bookbuild_toolchain"] = toolchain_fingerprint()
    sphinx["html_extra_path"] = ["_extra"]  # the notebooks readers download, copied as they are
    # A page's sources are the merged site notebooks, which no reader needs: not copied.
    sphinx["html_copy_source"] = False
    # `$$…$$` inside a line of text is display math, as in d2lbook (and in Jupyter).
    config.setdefault("parse", {})["myst_dmath_double_inline"] = True
    extensions = config["sphinx"].setdefault("extra_extensions", [])
    extensions.append("bookbuild.sphinx_warnings")  # a page that warned is read again next time
    extensions.append("bookbuild.sphinx_links")  # [text](other.md) links to the other chapter's page
    if settings.bibliography:
        extensions.append("bookbuild.sphinx_citations")
        config["bibtex_bibfiles"] = [Path(name).name for name in settings.bibliography]
        sphinx["bibtex_reference_style"] = sphinx_citations.style_name(lang)
        sphinx["bibtex_cite_id"] = "cite-{key}"  # bibliography.cite_anchor: the notebooks link there
        sphinx["bibtex_default_style"] = "plain"
    return config


def edition_toc(settings: Settings, lang: str, cited: bool = False) -> dict:
    """The book's table of contents, plus unnumbered last parts: the bibliography, if the chapters
    cite any work, and the translation status page."""
    toc = yaml.safe_load((settings.root / "_toc.yml").read_text(encoding="utf-8"))
    if "parts" not in toc:
        part = {key: toc.pop(key) for key in ("chapters",) if key in toc}
        toc["parts"] = [{**part, **toc.get("options", {})}] if part else []
    if cited:
        toc["parts"].append({"caption": text(lang, "bibliography"), "numbered": False,
                             "chapters": [{"file": bibliography.PAGE}]})
    toc["parts"].append({"caption": text(lang, "contribute"), "numbered": False,
                         "chapters": [{"file": STATUS_PAGE}]})
    return toc


def bibliography_page(lang: str) -> str:
    """The edition's bibliography: every work the chapters cite (sphinxcontrib-bibtex lists them)."""
    return f"# {text(lang, 'bibliography')}\n\n```{{bibliography}}\n```\n"


def outside_images(chapters: Sequence[Chapter], settings: Settings) -> set[Path]:
    """Images the chapters show from the book's folder but outside chapters/ (d2lbook books keep an
    img/ folder beside their chapters): copied into the editions at the same place."""
    found = set()
    for chapter in chapters:
        for source, _ in chapter.images:
            path = buildable.image_file(chapter, source, settings)
            if path is not None and path.is_file():
                resolved = path.resolve()
                if resolved.is_relative_to(settings.root) and not resolved.is_relative_to(settings.chapters_dir):
                    found.add(resolved)
    return found


def write_edition(chapters: list[Chapter], settings: Settings, lang: str, source: Path,
                  preview: bool = False) -> None:
    """The edition's Jupyter Book source folder. Unchanged files keep their timestamps, so that
    Sphinx rebuilds only the pages whose content changed."""
    config = edition_config(settings, lang, chapters)
    cited = bool(settings.bibliography) and any(chapter.citations for chapter in chapters)
    files = {source / "_config.yml": yaml.dump(config, Dumper=DUMPER, allow_unicode=True, sort_keys=False).encode(),
             source / "_toc.yml": yaml.dump(edition_toc(settings, lang, cited), Dumper=DUMPER, allow_unicode=True,
                                                 sort_keys=False).encode(),
             source / f"{STATUS_PAGE}.md": status.status_page(chapters, lang, settings).encode()}
    for framework in settings.framework_names:
        for chapter in chapters:
            committed = notebooks.notebook_path(settings.notebooks_dir, lang, framework, chapter)
            if committed.exists():
                files[source / "_extra" / DOWNLOADS / framework / f"{chapter.name}.ipynb"] = committed.read_bytes()
    for asset in settings.chapters_dir.rglob("*"):
        if asset.is_file() and asset.suffix != ".md" and not asset.name.endswith(translation.LOCK_SUFFIX):
            files[source / "chapters" / asset.relative_to(settings.chapters_dir)] = asset.read_bytes()
    for image in outside_images(chapters, settings):
        files[source / image.relative_to(settings.root)] = image.read_bytes()
    if cited:
        files[source / f"{bibliography.PAGE}.md"] = bibliography_page(lang).encode()
    for name in settings.bibliography:  # the edition's config names them (bibtex_bibfiles)
        files[source / Path(name).name] = (settings.root / name).read_bytes()
    for chapter in chapters:
        # Not checked against the notebook schema: it is made of checked notebooks' cells, and only
        # myst-nb reads it (the check costs half the time of a one-page rebuild of a long book).
        files[source / "chapters" / f"{chapter.name}.ipynb"] = (
            nbformat.v4.writes_json(site_notebook(chapter, lang, settings, preview)) + "\n").encode()
    for path, content in files.items():
        if not path.exists() or path.read_bytes() != content:
            write_atomic(path, content)
    for path in source.rglob("*") if source.exists() else []:
        if path.is_file() and path not in files:
            path.unlink()


# The edition a reader last opened (set by static/bookbuild.js), so the front door remembers it.
LANGUAGE_KEY = "dlbook-language"
LOGO = Path(__file__).parent / "static" / "bookbuild-logo.svg"


def front_page(settings: Settings) -> str:
    """Each edition's first page, the root of _toc.yml (its index.html only redirects there)."""
    return yaml.safe_load((settings.root / "_toc.yml").read_text(encoding="utf-8"))["root"] + ".html"


def root_index(settings: Settings, shared: set[str] | frozenset[str] = frozenset()) -> str:
    """The front door of the site: it sends a reader to the edition they read last or, the first
    time, to the first edition their browser's languages ask for; without JavaScript it offers both."""
    codes = [lang.code for lang in settings.languages]
    cards = "\n".join(
        f'''    <li><a href="{lang.code}/index.html" hreflang="{lang.tag}" lang="{lang.tag}">
      <strong>{html.escape(lang.title)}</strong>
      <span>{html.escape(lang.subtitle)}</span>
      <em>{html.escape(text(lang.code, "read_edition"))} →</em></a></li>'''
        for lang in settings.languages)
    logo = LOGO.read_text(encoding="utf-8").strip()
    icon = f"_static/{LOGO.name}" if f"_static/{LOGO.name}" in shared else f"{codes[0]}/_static/{LOGO.name}"
    published = ""  # where the site is published: its address, and each edition's
    if settings.site_url:
        root = html.escape(settings.site_url)
        published = f'\n  <link rel="canonical" href="{root}">' + "".join(
            f'\n  <link rel="alternate" hreflang="{lang.tag}" href="{root}{lang.code}/{front_page(settings)}">'
            for lang in settings.languages)
    return f"""<!DOCTYPE html>
<html lang="{settings.languages[0].tag}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(" · ".join(lang.title for lang in settings.languages))}</title>{published}
  <link rel="icon" href="{icon}" type="image/svg+xml">
  <script>
    (function () {{
      var editions = {json.dumps(codes)};
      var chosen = null;
      try {{ chosen = window.localStorage.getItem("{LANGUAGE_KEY}"); }} catch (error) {{}}
      if (editions.indexOf(chosen) < 0) {{
        chosen = editions[0];
        var wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
        for (var i = 0; i < wanted.length; i++) {{
          var code = String(wanted[i] || "").toLowerCase().split("-")[0];
          if (editions.indexOf(code) >= 0) {{ chosen = code; break; }}
        }}
      }}
      window.location.replace(chosen + "/index.html");
    }})();
  </script>
  <style>
    body {{ margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
           color: #1f2933; background: #f7f9fb; }}
    main {{ max-width: 40rem; margin: 0 auto; padding: 3rem 1.25rem; text-align: center; }}
    main > svg {{ width: 4rem; height: 4rem; }}
    ul {{ list-style: none; padding: 0; margin: 2rem 0 0; display: grid; gap: 1rem; }}
    a {{ display: block; padding: 1.25rem 1.5rem; border: 1px solid #d5dde5; border-radius: .75rem;
        background: #fff; color: inherit; text-decoration: none; }}
    a:hover, a:focus {{ border-color: #1a6f8f; box-shadow: 0 2px 10px rgba(26, 111, 143, .15); }}
    strong {{ display: block; font-size: 1.4rem; }}
    span {{ display: block; margin: .35rem 0 .75rem; color: #52606d; }}
    em {{ font-style: normal; color: #1a6f8f; font-weight: 600; }}
  </style>
</head>
<body>
  <main>
    {logo}
    <ul>
{cards}
    </ul>
  </main>
</body>
</html>
"""


SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML = "http://www.w3.org/1999/xhtml"


def sitemap(chapters: Sequence[Chapter], settings: Settings) -> str:
    """sitemap.xml for the published site: the front page, then every page of every edition, each
    with its counterparts in the other languages (hreflang alternates). No dates: a rebuild of an
    unchanged book gives the same bytes."""
    root = settings.site_url
    ET.register_namespace("", SITEMAP)
    ET.register_namespace("xhtml", XHTML)
    urlset = ET.Element(f"{{{SITEMAP}}}urlset")
    ET.SubElement(ET.SubElement(urlset, f"{{{SITEMAP}}}url"), f"{{{SITEMAP}}}loc").text = root
    for page in sorted(f"chapters/{chapter.name}.html" for chapter in chapters):
        for language in settings.languages:
            url = ET.SubElement(urlset, f"{{{SITEMAP}}}url")
            ET.SubElement(url, f"{{{SITEMAP}}}loc").text = f"{root}{language.code}/{page}"
            for other in settings.languages:
                ET.SubElement(url, f"{{{XHTML}}}link", rel="alternate", hreflang=other.tag,
                              href=f"{root}{other.code}/{page}")
    ET.indent(urlset)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(urlset, encoding="unicode") + "\n"


def build_site(chapters: list[Chapter], settings: Settings, preview: bool = False) -> int:
    """Build every edition at once, with warnings as errors, and publish the site only if every
    edition built clean: ``_build/html`` is replaced as a whole (publish.py), or left as it was.

    Sphinx reads again the pages that warned in its last build (sphinx_warnings.py), so a broken
    page fails every build until it is fixed, not only the first. A ``preview`` shows code that
    changed since its notebook was executed, without outputs, instead of stopping.
    """
    html_dir = settings.build_dir / "html"
    editions = {lang: (settings.build_dir / "site" / lang, settings.build_dir / "editions" / lang)
                for lang in settings.language_codes}
    try:
        for lang, (source, _) in editions.items():
            write_edition(chapters, settings, lang, source, preview)
    except StaleNotebook as error:
        print(error, file=sys.stderr)
        return 1
    print(f"building the {' and '.join(editions)} editions", flush=True)
    failed = []
    with contextlib.ExitStack() as stack:  # the editions build at once, one Sphinx process each
        running = {}
        for lang, (source, output) in editions.items():
            log = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
            command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(source), "--path-output",
                       str(output), "--warningiserror", "--nitpick", "--keep-going", "--quiet"]
            running[lang] = (subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True), log)
        for lang, (process, log) in running.items():
            if process.wait() != 0:
                log.seek(0)
                print(log.read(), file=sys.stderr)
                failed.append(lang)
    if failed:
        print(f"the {' and '.join(failed)} edition{'s' if len(failed) > 1 else ''} failed to build: "
              f"{html_dir.relative_to(settings.root)}/ is left as it was", file=sys.stderr)
        return 1
    staged = html_dir.with_name(f".{html_dir.name}.new")
    shutil.rmtree(staged, ignore_errors=True)
    shared = publish.assemble({lang: output / "_build" / "html" for lang, (_, output) in editions.items()}, staged,
                              previous=html_dir if html_dir.is_dir() else None)
    (staged / "index.html").write_text(root_index(settings, shared), encoding="utf-8")
    if settings.site_url:
        (staged / "sitemap.xml").write_text(sitemap(chapters, settings), encoding="utf-8")
    publish.swap_in(staged, html_dir)
    print(f"HTML editions in {html_dir.relative_to(settings.root)}/: "
          + ", ".join(f"{lang}/index.html" for lang in settings.language_codes))
    return 0
