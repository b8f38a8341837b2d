"""Assemble and build the two HTML editions.

For each language, write the edition's Jupyter Book source folder (its config from edition.py, one
page per section from render_myst, the notebooks readers download, the chapters' assets), then
build the editions at once, one Sphinx process each, warnings as errors, and publish the site only
if every edition built clean (publish.py). Nothing is executed here: the outputs come from the
committed notebooks.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml
from nbformat import NotebookNode

from . import bibliography, buildable, execute, notebooks, progress, publish, schedule, status, translation
from .crossref import Numbering, book_numbering
from .edition import STATUS_PAGE, bibliography_page, edition_config, edition_toc
from .files import notebook_path, write_atomic
from .frontpage import root_index, sitemap
from .model import Chapter
from .render_jupyter import Links, make_notebook
from .render_myst import StaleNotebook, site_notebook
from .runlinks import DOWNLOADS
from .settings import Settings

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml where PyYAML has it: the config is long


def download_notebook(chapter: Chapter, lang: str, framework: str, settings: Settings,
                      numbering: Numbering, preview: bool = False) -> NotebookNode | None:
    """The notebook a reader downloads from a page: the committed one, with its outputs, but with
    links to the online edition, since a notebook read on its own has no siblings to link to (see
    render_jupyter). None where there is no committed notebook. In a ``preview``, a notebook whose
    code changed since it was executed is offered without outputs."""
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
        if preview:
            return notebook
        raise StaleNotebook(f"{notebook_path(Path('notebooks'), lang, framework, chapter)} is stale: "
                            "run `make notebooks`")
    if key:
        execute.apply_outputs(notebook, executed, key)
    return notebook


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
                  numbering: Numbering | None = None, preview: bool = False) -> None:
    """The edition's Jupyter Book source folder. Unchanged files keep their timestamps, so that
    Sphinx rebuilds only the pages whose content changed."""
    config = edition_config(settings, lang, chapters)
    cited = bool(settings.bibliography) and any(chapter.citations for chapter in chapters)
    files = {source / "_config.yml": yaml.dump(config, Dumper=DUMPER, allow_unicode=True, sort_keys=False).encode(),
             source / "_toc.yml": yaml.dump(edition_toc(settings, lang, cited), Dumper=DUMPER, allow_unicode=True,
                                            sort_keys=False).encode(),
             source / f"{STATUS_PAGE}.md": status.status_page(chapters, lang, settings).encode()}
    numbering = numbering or book_numbering(chapters, settings)
    for chapter in chapters:
        gaps = chapter.framework_gaps(settings.framework_names)
        for framework in settings.framework_names:
            if framework in gaps:
                continue  # its notebook has no code: the page offers none to download (runlinks.py)
            download = download_notebook(chapter, lang, framework, settings, numbering, preview)
            if download is not None:
                files[source / "_extra" / DOWNLOADS / framework / f"{chapter.name}.ipynb"] = \
                    notebooks.dumps(download).encode()
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


# Sphinx's status lines, from which the progress display follows each edition's build.
SPHINX_STEP = re.compile(r"^(reading sources|writing output)\.\.\. \[\s*(\d+)%\] (\S+)")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class Edition:
    lang: str
    source: Path
    output: Path
    status: int | None = None
    errors: str = ""

    @property
    def name(self) -> str:
        return f"{self.lang} edition"


def build_edition(edition: Edition, shown: progress.Display, processes: list[subprocess.Popen]) -> None:
    """One `jupyter-book build` with warnings as errors; Sphinx rebuilds only the pages whose source
    changed. Its status lines feed the display: reading is the first half, writing the second."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(edition.source), "--path-output",
               str(edition.output), "--warningiserror", "--nitpick", "--keep-going"]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True, encoding="utf-8")
        processes.append(process)
        tail: list[str] = []
        for line in process.stdout:
            line = ANSI.sub("", line).rstrip()
            tail = (tail + [line])[-30:]
            step = SPHINX_STEP.match(line)
            if step:
                half = 0.0 if step[1] == "reading sources" else 0.5
                shown.advance(edition.name, half + int(step[2]) / 200, f"{step[1].split()[0]} {step[3]}")
        edition.status = process.wait()
        errors.seek(0)
        edition.errors = errors.read().strip() or "\n".join(tail)


def build_site(chapters: list[Chapter], settings: Settings, preview: bool = False,
               show: Callable[..., progress.Display] = progress.Display) -> int:
    """Build every edition, all at once, with warnings as errors, and publish the site only if every
    edition built clean: ``_build/html`` is replaced as a whole (publish.py), or left as it was.

    Sphinx reads again the pages that warned in its last build (sphinx_warnings.py), so a broken
    page fails every build until it is fixed, not only the first. A ``preview`` shows code that
    changed since its notebook was executed, without outputs, instead of stopping.

    Sphinx's own parallel reading (-j) stays off: sphinx-multitoc-numbering (numbered tables of
    contents), sphinx-jupyterbook-latex and sphinx-mathjax-offline do not declare themselves safe
    for it, and Sphinx then warns, which -W makes an error. The editions are separate Sphinx
    processes instead, one per core.
    """
    html_dir = settings.build_dir / "html"
    editions = [Edition(lang, settings.build_dir / "site" / lang, settings.build_dir / "editions" / lang)
                for lang in settings.language_codes]
    numbering = book_numbering(chapters, settings)
    try:
        for edition in editions:
            write_edition(chapters, settings, edition.lang, edition.source, numbering, preview)
    except StaleNotebook as error:
        print(error, file=sys.stderr)
        return 1
    processes: list[subprocess.Popen] = []
    count = min(len(editions), schedule.cores())
    with show("html", {edition.name: 1.0 for edition in editions}, workers=count) as shown:

        def done(edition: Edition, outcome: None | Exception) -> None:
            if isinstance(outcome, Exception):
                edition.status, edition.errors = 1, f"{type(outcome).__name__}: {outcome}"

        def stop() -> None:
            for process in processes:
                process.terminate()

        schedule.Runner(count, started=lambda edition: shown.start(edition.name),
                        finished=lambda edition, ok: shown.finish(edition.name, ok and edition.status == 0),
                        stop=stop).run(editions, lambda edition: build_edition(edition, shown, processes), done)
    failed = [edition for edition in editions if edition.status != 0]
    if failed:
        for edition in failed:
            print(edition.errors, file=sys.stderr)
        names = " and ".join(edition.lang for edition in failed)
        print(f"the {names} edition{'s' if len(failed) > 1 else ''} failed to build: "
              f"{html_dir.relative_to(settings.root)}/ is left as it was", file=sys.stderr)
        return 1
    staged = html_dir.with_name(f".{html_dir.name}.new")
    shutil.rmtree(staged, ignore_errors=True)
    shared = publish.assemble({edition.lang: edition.output / "_build" / "html" for edition in editions}, staged,
                              previous=html_dir if html_dir.is_dir() else None)
    (staged / "index.html").write_text(root_index(settings, shared), encoding="utf-8")
    if settings.site_url:
        (staged / "sitemap.xml").write_text(sitemap(chapters, settings), encoding="utf-8")
    publish.swap_in(staged, html_dir)
    print(f"HTML editions in {html_dir.relative_to(settings.root)}/: "
          + ", ".join(f"{lang}/index.html" for lang in settings.language_codes))
    return 0
