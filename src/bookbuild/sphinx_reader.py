"""The reader's controls around each page of an edition: the language switch, the remembered
framework and the "Run this page" links.

The site (edition.py, runlinks.py) computes everything page-specific and passes it in config values set
by ``edition_config``: this extension only draws it. Each page gets

- an EN | PT switch in the article header, linking to the same page of the other edition (both
  editions share their page paths);
- under its title, when it has code, one row of links per framework (Colab, Binder, download);
  ``static/bookbuild.js`` shows the row of the framework selected in the tabs;
- ``static/bookbuild.js`` itself, which makes the framework choice default to
  ``bookbuild_default_tab`` and stick across pages, reloads and editions, on top of sphinx-design's
  synced tabs.

It also settles the theme's chrome: a brand with logo, title and subtitle in the sidebar, no
second search bar above the page, no download menu offering the merged site notebook, a footer
with the copyright and the license (edition.py writes the license line in the edition's language).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
LOGO = "bookbuild-logo.svg"
SIDEBAR = ["bookbuild-brand.html", "search-button-field.html", "sbt-sidebar-nav.html"]


def configure_theme(app: Sphinx, config: Config) -> None:
    """Our templates and static files, and the theme options the reader controls need."""
    config.templates_path = [*config.templates_path, str(TEMPLATES)]
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    if not config.html_favicon:
        config.html_favicon = str(STATIC / LOGO)
    if not config.html_sidebars:
        config.html_sidebars = {"**": SIDEBAR}
    options = dict(config.html_theme_options)
    options["article_header_end"] = ["bookbuild-language-switch.html", "article-header-buttons.html"]
    options.setdefault("navbar_persistent", [])  # the sidebar has the search field already
    options["use_download_button"] = False  # it would offer the merged page, not a reader's notebook
    # The sidebar lists the chapters and opens the current one only: with the whole tree on every
    # page, a book of 150 sections spends a third of each page on its navigation.
    options.setdefault("collapse_navbar", True)
    # No "By <author>" line: the theme cannot word it in Portuguese ("De The book's authors").
    options["footer_content_items"] = ["copyright.html", "last-updated.html", "extra-footer.html"]
    if "search" in config.bookbuild_texts:
        options["search_bar_text"] = config.bookbuild_texts["search"]
    config.html_theme_options = options


def add_assets(app: Sphinx) -> None:
    """The script reads its settings from its own tag; it runs in <head>, before the tabs initialise."""
    config = app.config
    frameworks = [name for name, _ in config.bookbuild_frameworks]
    if config.bookbuild_default_tab and config.bookbuild_default_tab not in frameworks:
        raise ValueError(f"bookbuild_default_tab {config.bookbuild_default_tab!r} is not one of {frameworks}")
    app.add_css_file("bookbuild.css")
    app.add_js_file("bookbuild.js", **{
        "data-frameworks": " ".join(frameworks),
        "data-default": config.bookbuild_default_tab or (frameworks[0] if frameworks else ""),
        "data-language": config.bookbuild_language,
    })


def run_block(rows: list[dict[str, str]], texts: dict[str, str], root: str) -> str:
    """One row per framework; ``root`` leads from the page to the edition's root (downloads)."""
    def link(kind: str, href: str, label: str, icon: str, extra: str = "") -> str:
        return (f'<a class="bb-run__link bb-run__{kind}" href="{html.escape(href)}"{extra}>'
                f'<i class="{icon}" aria-hidden="true"></i> {html.escape(label)}</a>')

    items = []
    for row in rows:
        parts = [f'<span class="bb-run__name">{html.escape(row["label"])}</span>']
        if row.get("gap"):  # no code for this framework: nothing to run, and the row says so
            parts.append(f'<span class="bb-run__note bb-run__gap">{html.escape(row["gap"])}</span>')
            items.append(f'<div class="bb-run__framework" data-framework="{html.escape(row["framework"])}">'
                         + "".join(parts) + "</div>")
            continue
        if row["colab"]:
            parts.append(link("colab", row["colab"], texts["open_colab"], "fa-solid fa-infinity",
                              ' target="_blank" rel="noopener"'))
        parts.append(link("binder", row["binder"], texts["launch_binder"], "fa-solid fa-rocket",
                          ' target="_blank" rel="noopener"'))
        parts.append(link("download", root + row["download"], texts["download_notebook"], "fa-solid fa-download",
                          " download"))
        if row["note"]:
            parts.append(f'<span class="bb-run__note">{html.escape(row["note"])}</span>')
        items.append(f'<div class="bb-run__framework" data-framework="{html.escape(row["framework"])}">'
                     + "".join(parts) + "</div>")
    title = html.escape(texts["run_title"])
    return (f'<div class="bb-run" role="group" aria-label="{title}">'
            f'<span class="bb-run__title">{title}</span>' + "".join(items) + "</div>")


def add_run_block(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Put the page's run links right under its title."""
    rows = app.config.bookbuild_run.get(docname)
    if not rows or app.builder.format != "html":
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        LOGGER.warning("page has code but no title to put the run links under [bookbuild.reader]",
                       location=docname, type="bookbuild", subtype="reader")
        return
    root = "../" * docname.count("/")
    block = nodes.raw("", run_block(rows, app.config.bookbuild_texts, root), format="html")
    section.insert(section.first_child_matching_class(nodes.title) + 1, block)


def drop_duplicate_scripts(context: dict[str, Any]) -> None:
    """sphinx-thebe adds its inline configuration with ``filename=None``, and Sphinx 7.4 registers
    it a second time as ``filename=""``, so that every page declared ``const THEBE_JS_URL`` twice
    and raised a SyntaxError in the browser. Keep the first of each script, in place: the list is
    the builder's, to which later handlers still add their page's scripts (MathJax)."""
    scripts = context.get("script_files", [])
    seen, unique = set(), []
    for script in scripts:
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def add_page_context(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                     doctree: nodes.document | None) -> None:
    """The language switch: the same page in every edition, as a path relative to this page."""
    drop_duplicate_scripts(context)
    up = "../" * (pagename.count("/") + 1)
    context["bookbuild_language_links"] = [
        {"code": code, "hreflang": hreflang, "name": name, "label": code.upper(),
         "href": f"{up}{code}/{pagename}.html", "current": code == app.config.bookbuild_language}
        for code, hreflang, name in app.config.bookbuild_languages]
    context["bookbuild_subtitle"] = app.config.bookbuild_subtitle
    context["bookbuild_texts"] = app.config.bookbuild_texts
    context["bookbuild_logo"] = f"_static/{LOGO}"


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("bookbuild.sphinx_tabs")  # its framework list and sync group are ours too
    app.add_config_value("bookbuild_language", "", "html", types=[str])
    app.add_config_value("bookbuild_languages", [], "html", types=[list])
    app.add_config_value("bookbuild_subtitle", "", "html", types=[str])
    app.add_config_value("bookbuild_default_tab", "", "html", types=[str])
    app.add_config_value("bookbuild_texts", {}, "html", types=[dict])
    app.add_config_value("bookbuild_run", {}, "html", types=[dict])
    # Set by edition.py from this package's extensions, templates and static files: a change to any
    # of them rebuilds every page and copies the static files again.
    app.add_config_value("bookbuild_toolchain", "", "env", types=[str])
    app.connect("config-inited", configure_theme)
    app.connect("builder-inited", add_assets)
    app.connect("doctree-resolved", add_run_block)
    app.connect("html-page-context", add_page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
