"""The book's settings, read from the ``bookbuild`` section of the top-level ``_config.yml``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import yaml


class ConfigError(Exception):
    """_config.yml says something the toolchain cannot use; the message says what and where."""


@dataclass(frozen=True)
class Framework:
    name: str  # as written in `#@tab` and `:begin_tab:`
    display_name: str  # as shown on tabs, e.g. "PyTorch"
    requirements: Path  # the CPU kernel environment's pinned requirements
    gpu_requirements: Path  # the GPU kernel environment's (built only on request: several GB)
    setup: str  # first cell of every notebook: seeds the random generators
    colab: bool = True  # False where Colab's image cannot install the framework: readers get Binder


@dataclass(frozen=True)
class Language:
    code: str  # as written in `:begin_lang:`, e.g. "pt"
    sphinx_language: str  # e.g. "pt_BR", for the theme's labels and the search index
    title: str
    subtitle: str = ""

    @property
    def tag(self) -> str:
        """The BCP 47 tag of HTML's lang and hreflang attributes, e.g. "pt-BR"."""
        return self.sphinx_language.replace("_", "-")


@dataclass(frozen=True)
class Repository:
    """The book's public home on GitHub, from which Colab and Binder open the committed notebooks."""

    owner: str
    name: str
    branch: str

    @property
    def url(self) -> str:
        return f"https://github.com/{self.owner}/{self.name}"

    def file_url(self, path: str) -> str:
        return f"{self.url}/blob/{self.branch}/{path}"

    def colab_url(self, path: str) -> str:
        return f"https://colab.research.google.com/github/{self.owner}/{self.name}/blob/{self.branch}/{path}"

    def binder_url(self, path: str) -> str:
        """Binder builds the repository at the branch (binder/) and opens the notebook in JupyterLab."""
        ref = quote(self.branch, safe="")
        return f"https://mybinder.org/v2/gh/{self.owner}/{self.name}/{ref}?labpath={quote(path, safe='/')}"


@dataclass(frozen=True)
class Settings:
    root: Path
    frameworks: tuple[Framework, ...]
    languages: tuple[Language, ...]
    config: dict  # the whole _config.yml, from which each edition's config is derived
    repository: Repository
    default_tab: str  # the framework a reader sees first, until they pick another
    site_url: str | None = None  # where the site is published (html.baseurl), ending in "/"

    @property
    def framework_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.frameworks)

    @property
    def language_codes(self) -> tuple[str, ...]:
        return tuple(lang.code for lang in self.languages)

    @property
    def default_framework(self) -> str:
        """Cells with no `#@tab` line belong to the first framework, as in d2lbook."""
        return self.frameworks[0].name

    def framework(self, name: str) -> Framework:
        return next(f for f in self.frameworks if f.name == name)

    def language(self, code: str) -> Language:
        return next(lang for lang in self.languages if lang.code == code)

    @property
    def chapters_dir(self) -> Path:
        return self.root / "chapters"

    @property
    def notebooks_dir(self) -> Path:
        return self.root / "notebooks"

    @property
    def build_dir(self) -> Path:
        return self.root / "_build"


def requirement_pins(requirements: Path) -> list[str]:
    """A requirements file's lines as pip reads them, in file order, without comments and blanks."""
    lines = (line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines())
    return [line for line in lines if line]


# pip options that say where packages come from, not which: with every version pinned exactly
# (local labels such as +cpu included), moving a source changes nothing that is installed.
PACKAGE_SOURCES = ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host")


def is_package_source(line: str) -> bool:
    return line.split(None, 1)[0].split("=", 1)[0] in PACKAGE_SOURCES


GITHUB = re.compile(r"https://github\.com/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+?)(?:\.git)?/?")


def load_repository(config: dict) -> Repository:
    """``repository.url`` and ``repository.branch``: every Colab, Binder and source link derives from them."""
    spec = config.get("repository") or {}
    url, branch = str(spec.get("url", "")), str(spec.get("branch", "") or "")
    found = GITHUB.fullmatch(url)
    if not found:
        raise ConfigError(f"_config.yml: repository.url must be a GitHub repository such as "
                          f"https://github.com/owner/book (Colab and Binder open notebooks from it), got {url!r}")
    if not branch:
        raise ConfigError("_config.yml: repository.branch is missing (the branch whose notebooks readers open)")
    return Repository(owner=found["owner"], name=found["name"], branch=branch)


# The repository.url that _config.yml ships with: a book published from another repository sets its
# own (`make check` warns until then), and html.baseurl with it.
PLACEHOLDER_REPOSITORY = "https://github.com/dl-hands-on/book"
SITE_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")


def load_site_url(config: dict) -> str | None:
    """``html.baseurl``: the published site's address, from which each page's canonical URL and the
    sitemap derive. None when the book is not published anywhere."""
    url = (config.get("html") or {}).get("baseurl")
    if not url:
        return None
    if not isinstance(url, str) or not SITE_URL.fullmatch(url):
        raise ConfigError(f"_config.yml: html.baseurl must be the address where the site is published, "
                          f"such as https://owner.github.io/book/, got {url!r}")
    return url if url.endswith("/") else url + "/"


def config_warnings(settings: Settings) -> list[str]:
    """What is valid but probably not meant: a repository and a site address left as shipped."""
    found = []
    repository = settings.repository
    if repository.url == PLACEHOLDER_REPOSITORY:
        found.append(f"{_config_line(settings, 'repository', 'url')}: warning: repository.url is still the "
                     f"placeholder {PLACEHOLDER_REPOSITORY}: the Colab and Binder links, the license link and "
                     "the published site point there; set it to the book's own repository")
    pages = f"https://{repository.owner.lower()}.github.io/{repository.name}/"
    if settings.site_url and ".github.io/" in settings.site_url and settings.site_url != pages:
        found.append(f"{_config_line(settings, 'html', 'baseurl')}: warning: html.baseurl is "
                     f"{settings.site_url}, but GitHub Pages publishes {repository.url} at {pages}")
    return found


def _config_line(settings: Settings, section: str, key: str) -> str:
    """``_config.yml:LINE`` of a key, for messages."""
    node = yaml.compose((settings.root / "_config.yml").read_text(encoding="utf-8"))
    for name, value in getattr(node, "value", []):
        if name.value == section:
            for inner, item in getattr(value, "value", []):
                if inner.value == key:
                    return f"_config.yml:{item.start_mark.line + 1}"
    return "_config.yml:1"


def load_settings(root: Path | str = ".") -> Settings:
    root = Path(root).resolve()
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    ours = config.get("bookbuild", {})
    frameworks = tuple(
        Framework(
            name=name,
            display_name=spec["display_name"],
            requirements=root / spec["requirements"],
            gpu_requirements=root / spec["gpu_requirements"],
            setup=spec["setup"].rstrip("\n"),
            colab=bool(spec.get("colab", True)),
        )
        for name, spec in ours["frameworks"].items()
    )
    languages = tuple(
        Language(
            code=code,
            sphinx_language=spec["sphinx_language"],
            title=spec["title"],
            subtitle=spec.get("subtitle", ""),
        )
        for code, spec in ours["languages"].items()
    )
    names = [f.name for f in frameworks]
    default_tab = ours.get("default_tab", names[0])
    if default_tab not in names:
        raise ConfigError(f"_config.yml: bookbuild.default_tab is {default_tab!r}, "
                          f"not one of the frameworks ({', '.join(names)})")
    return Settings(root=root, frameworks=frameworks, languages=languages, config=config,
                    repository=load_repository(config), default_tab=default_tab, site_url=load_site_url(config))
