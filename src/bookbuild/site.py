"""Assemble and build the two HTML editions from the executed notebooks.

For each language, one "site notebook" per section merges the prose with every framework's code
cells and their stored outputs; `sphinx_tabs` turns the tagged cells into synchronised tab sets.
Each edition's Jupyter Book config is derived from the top-level _config.yml and _toc.yml, so that
there is one source for both; it also carries what `sphinx_reader` shows around each page (the
language switch, the "Run this page" links) and the committed notebooks readers download. Nothing
is executed here.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import nbformat
import yaml
from nbformat import NotebookNode

from . import notebooks, status, translation
from .files import write_atomic
from .model import Chapter, Code, Prose
from .settings import Settings
from .texts import text

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


def site_notebook(chapter: Chapter, lang: str, settings: Settings) -> NotebookNode:
    """One page of one edition: the language's prose and every framework's executed cells."""
    executed = {}
    for framework in settings.frameworks:
        cells = chapter.code_cells(framework.name)
        if not cells:
            continue
        path = notebooks.notebook_path(settings.notebooks_dir, lang, framework.name, chapter)
        stored = notebooks.load(path)
        code = [c for c in stored.cells if c.cell_type == "code"][1:] if stored else []
        if [c.source for c in code] != [b.source for b in cells]:
            raise StaleNotebook(f"{path.relative_to(settings.root)} is missing or stale: run `make notebooks`")
        executed[framework.name] = dict(zip((id(b) for b in cells), code, strict=True))

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
            cells.append(nbformat.v4.new_markdown_cell("\n\n".join(markdown)))
            markdown.clear()
        for group in code_groups(pending_code, list(executed)):
            group_number += 1
            solution = any(block.solution for _, block in group)
            for framework, block in sorted(group, key=lambda item: settings.framework_names.index(item[0])):
                stored = executed[framework][id(block)]
                cell = nbformat.v4.new_code_cell(block.source, outputs=stored.outputs,
                                                 execution_count=stored.execution_count)
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
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {"language_info": notebooks.LANGUAGE_INFO}
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
    for framework in settings.frameworks:
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
    sphinx["bookbuild_toolchain"] = toolchain_fingerprint()
    sphinx["html_extra_path"] = ["_extra"]  # the notebooks readers download, copied as they are
    return config


def edition_toc(settings: Settings, lang: str) -> dict:
    """The book's table of contents, plus an unnumbered last part with the translation status page."""
    toc = yaml.safe_load((settings.root / "_toc.yml").read_text(encoding="utf-8"))
    if "parts" not in toc:
        part = {key: toc.pop(key) for key in ("chapters",) if key in toc}
        toc["parts"] = [{**part, **toc.get("options", {})}] if part else []
    toc["parts"].append({"caption": text(lang, "contribute"), "numbered": False,
                         "chapters": [{"file": STATUS_PAGE}]})
    return toc


def write_edition(chapters: list[Chapter], settings: Settings, lang: str, source: Path) -> None:
    """The edition's Jupyter Book source folder. Unchanged files keep their timestamps, so that
    Sphinx rebuilds only the pages whose content changed."""
    files = {source / "_config.yml": yaml.safe_dump(edition_config(settings, lang, chapters), allow_unicode=True,
                                                    sort_keys=False).encode(),
             source / "_toc.yml": yaml.safe_dump(edition_toc(settings, lang), allow_unicode=True,
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
    for chapter in chapters:
        files[source / "chapters" / f"{chapter.name}.ipynb"] = notebooks.dumps(
            site_notebook(chapter, lang, settings)).encode()
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


def root_index(settings: Settings) -> str:
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
  <link rel="icon" href="{codes[0]}/_static/bookbuild-logo.svg" type="image/svg+xml">
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


def build_site(chapters: list[Chapter], settings: Settings) -> int:
    """Build every edition with warnings as errors; publish each only if its build succeeded."""
    html_dir = settings.build_dir / "html"
    for language in settings.languages:
        lang = language.code
        source = settings.build_dir / "site" / lang
        output = settings.build_dir / "editions" / lang
        try:
            write_edition(chapters, settings, lang, source)
        except StaleNotebook as error:
            print(error, file=sys.stderr)
            return 1
        print(f"building the {lang} edition", flush=True)
        jupyter_book = Path(sys.executable).parent / "jupyter-book"
        command = [str(jupyter_book), "build", str(source), "--path-output",
                   str(output), "--warningiserror", "--nitpick", "--keep-going", "--quiet"]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
            print(f"the {lang} edition failed to build; _build/html/{lang} is left as it was",
                  file=sys.stderr)
            return 1
        staged = html_dir / f".{lang}.new"
        shutil.rmtree(staged, ignore_errors=True)
        shutil.copytree(output / "_build" / "html", staged)
        previous = html_dir / f".{lang}.old"
        shutil.rmtree(previous, ignore_errors=True)
        if (html_dir / lang).exists():
            (html_dir / lang).rename(previous)
        staged.rename(html_dir / lang)
        shutil.rmtree(previous, ignore_errors=True)
    write_atomic(html_dir / "index.html", root_index(settings))
    if settings.site_url:
        write_atomic(html_dir / "sitemap.xml", sitemap(chapters, settings))
    else:
        (html_dir / "sitemap.xml").unlink(missing_ok=True)
    print(f"HTML editions in {html_dir.relative_to(settings.root)}/: "
          + ", ".join(f"{lang}/index.html" for lang in settings.language_codes))
    return 0
