"""Assemble and build the two HTML editions from the executed notebooks.

For each language, one "site notebook" per section merges the prose with every framework's code
cells and their stored outputs; `sphinx_tabs` turns the tagged cells into synchronised tab sets.
Each edition's Jupyter Book config is derived from the top-level _config.yml and _toc.yml, so that
there is one source for both. Nothing is executed here.
"""

from __future__ import annotations

import copy
import html
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml
from nbformat import NotebookNode

from . import notebooks
from .model import Chapter, Code, Prose
from .settings import Settings

SOLUTION_TITLE = {"en": "Solution", "pt": "Solução"}


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

    def flush() -> None:
        nonlocal group_number
        if pending_tabs:
            markdown.append(framework_prose_tabs(pending_tabs, settings))
            pending_tabs.clear()
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
        elif block.lang in (None, lang):
            if pending_code:
                flush()
            if block.frameworks is None:
                if pending_tabs:
                    flush()
                markdown.append(block.text)
            else:
                pending_tabs.append(block)
    flush()
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index}"
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {"language_info": notebooks.LANGUAGE_INFO}
    return notebook


def edition_config(settings: Settings, lang: str) -> dict:
    """The edition's Jupyter Book config: the book's, in the edition's language."""
    config = copy.deepcopy(settings.config)
    config.pop("bookbuild", None)
    language = settings.language(lang)
    config["title"] = language.title
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["language"] = language.sphinx_language
    sphinx["bookbuild_frameworks"] = [[f.name, f.display_name] for f in settings.frameworks]
    sphinx["bookbuild_solution_title"] = SOLUTION_TITLE.get(lang, SOLUTION_TITLE["en"])
    return config


def write_edition(chapters: list[Chapter], settings: Settings, lang: str, source: Path) -> None:
    """The edition's Jupyter Book source folder. Unchanged files keep their timestamps, so that
    Sphinx rebuilds only the pages whose content changed."""
    files = {source / "_config.yml": yaml.safe_dump(edition_config(settings, lang), allow_unicode=True,
                                                    sort_keys=False).encode(),
             source / "_toc.yml": (settings.root / "_toc.yml").read_bytes()}
    for asset in settings.chapters_dir.rglob("*"):
        if asset.is_file() and asset.suffix != ".md":
            files[source / "chapters" / asset.relative_to(settings.chapters_dir)] = asset.read_bytes()
    for chapter in chapters:
        files[source / "chapters" / f"{chapter.name}.ipynb"] = notebooks.dumps(
            site_notebook(chapter, lang, settings)).encode()
    for path, content in files.items():
        if not path.exists() or path.read_bytes() != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    for path in source.rglob("*") if source.exists() else []:
        if path.is_file() and path not in files:
            path.unlink()


def root_index(settings: Settings) -> str:
    links = "\n".join(
        f'    <li><a href="{lang.code}/index.html" hreflang="{lang.code}">{html.escape(lang.title)}</a></li>'
        for lang in settings.languages
    )
    return f"""<!DOCTYPE html>
<html lang="{settings.languages[0].code}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(settings.languages[0].title)}</title>
</head>
<body>
  <h1>{html.escape(" / ".join(lang.title for lang in settings.languages))}</h1>
  <ul>
{links}
  </ul>
</body>
</html>
"""


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
    (html_dir / "index.html").write_text(root_index(settings), encoding="utf-8")
    print(f"HTML editions in {html_dir.relative_to(settings.root)}/: "
          + ", ".join(f"{lang}/index.html" for lang in settings.language_codes))
    return 0
