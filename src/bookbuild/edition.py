"""Each edition's Jupyter Book config, derived from the top-level _config.yml, in the edition's
language, with what the reader extension (sphinx_reader) draws around each page."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from pathlib import Path

import yaml

from . import bibliography, sphinx_citations
from .model import Chapter
from .runlinks import run_links
from .settings import Settings
from .texts import text

# The page listing the translation's gaps, at the root of each edition.
STATUS_PAGE = "translation-status"
# Strings `sphinx_reader` puts on the pages, in the edition's language.
PAGE_TEXTS = ("language_switch", "run_title", "open_colab", "launch_binder", "download_notebook", "search")


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
