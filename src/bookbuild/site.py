"""Assemble and build the two HTML editions.

For each language, write the edition's Jupyter Book source folder (its config from edition.py, one
page per section from render_myst, the notebooks readers download, the chapters' assets), then
build it with Sphinx, warnings as errors, and publish it only if the build succeeded. Nothing is
executed here: the outputs come from the committed notebooks.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from nbformat import NotebookNode

from . import execute, notebooks, status, translation
from .crossref import Numbering, book_numbering
from .edition import STATUS_PAGE, edition_config, edition_toc
from .files import notebook_path, write_atomic
from .frontpage import root_index, sitemap
from .model import Chapter
from .render_jupyter import Links, make_notebook
from .render_myst import StaleNotebook, site_notebook
from .runlinks import DOWNLOADS
from .settings import Settings


def download_notebook(chapter: Chapter, lang: str, framework: str, settings: Settings,
                      numbering: Numbering) -> NotebookNode | None:
    """The notebook a reader downloads from a page: the committed one, with its outputs, but with
    links to the online edition, since a notebook read on its own has no siblings to link to (see
    render_jupyter). None where there is no committed notebook."""
    committed = notebooks.load(notebook_path(settings.notebooks_dir, lang, framework, chapter))
    if committed is None:
        return None
    if not settings.site_url:
        return committed
    notebook = make_notebook(chapter, lang, settings.framework(framework), settings, numbering,
                             Links(online=settings.site_url))
    key = committed.metadata.get("bookbuild", {}).get("execution")
    executed = [c for c in committed.cells if c.cell_type == "code"]
    if [c.source for c in notebook.cells if c.cell_type == "code"] != [c.source for c in executed]:
        raise StaleNotebook(f"{notebook_path(Path('notebooks'), lang, framework, chapter)} is stale: "
                            "run `make notebooks`")
    if key:
        execute.apply_outputs(notebook, executed, key)
    return notebook


def write_edition(chapters: list[Chapter], settings: Settings, lang: str, source: Path,
                  numbering: Numbering | None = None) -> None:
    """The edition's Jupyter Book source folder. Unchanged files keep their timestamps, so that
    Sphinx rebuilds only the pages whose content changed."""
    files = {source / "_config.yml": yaml.safe_dump(edition_config(settings, lang, chapters), allow_unicode=True,
                                                    sort_keys=False).encode(),
             source / "_toc.yml": yaml.safe_dump(edition_toc(settings, lang), allow_unicode=True,
                                                 sort_keys=False).encode(),
             source / f"{STATUS_PAGE}.md": status.status_page(chapters, lang, settings).encode()}
    numbering = numbering or book_numbering(chapters, settings)
    for framework in settings.framework_names:
        for chapter in chapters:
            download = download_notebook(chapter, lang, framework, settings, numbering)
            if download is not None:
                files[source / "_extra" / DOWNLOADS / framework / f"{chapter.name}.ipynb"] = \
                    notebooks.dumps(download).encode()
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


def build_site(chapters: list[Chapter], settings: Settings) -> int:
    """Build every edition with warnings as errors; publish each only if its build succeeded."""
    html_dir = settings.build_dir / "html"
    numbering = book_numbering(chapters, settings)
    for language in settings.languages:
        lang = language.code
        source = settings.build_dir / "site" / lang
        output = settings.build_dir / "editions" / lang
        try:
            write_edition(chapters, settings, lang, source, numbering)
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
