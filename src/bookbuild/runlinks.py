"""The "Run this page" links of each page: per framework, where its committed notebook opens (Colab,
Binder) and where the edition serves it for download."""

from __future__ import annotations

from pathlib import Path

from .files import notebook_path
from .model import Chapter
from .render_jupyter import pinned_release
from .settings import Settings
from .texts import text

# Where each edition serves the notebooks readers download.
DOWNLOADS = "notebooks"


def run_links(chapter: Chapter, lang: str, settings: Settings) -> list[dict[str, str]]:
    """Per framework with code on the page: where its committed notebook opens (Colab, Binder) and
    where the edition serves it for download; a note instead of Colab where Colab cannot run it,
    and instead of every link where the section has no code for the framework."""
    rows = []
    gaps = chapter.framework_gaps(settings.framework_names)
    for framework in settings.frameworks:
        if framework.name in gaps:  # no links to a notebook without code: the row says why
            rows.append({"framework": framework.name, "label": framework.display_name,
                         "gap": text(lang, "framework_gap", framework=framework.display_name)})
            continue
        if not chapter.code_cells(framework.name):
            continue
        path = notebook_path(Path("notebooks"), lang, framework.name, chapter).as_posix()
        rows.append({
            "framework": framework.name,
            "label": framework.display_name,
            "colab": settings.repository.colab_url(path) if framework.colab else "",
            "note": "" if framework.colab else text(lang, "colab_unavailable",
                                                    release=pinned_release(framework)),
            "binder": settings.repository.binder_url(path),
            "download": f"{DOWNLOADS}/{framework.name}/{chapter.name}.ipynb",
        })
    return rows
