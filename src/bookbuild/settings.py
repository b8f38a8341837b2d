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

    def file_url(self, path: str, line: int | None = None) -> str:
        return f"{self.url}/blob/{self.branch}/{path}" + (f"#L{line}" if line else "")

    def edit_url(self, path: str) -> str:
        """GitHub's editor for a file of the branch: where a reader fixes or translates a passage."""
        return f"{self.url}/edit/{self.branch}/{path}"

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
    source_language: str = "en"  # the language the book is written in; the others translate it
    strict: bool = False  # translation gaps and glossary findings fail `check`, as `check --strict` does
    glossary: Path | None = None  # English term → approved translations (see glossary.py)

    @property
    def framework_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.frameworks)

    @property
    def language_codes(self) -> tuple[str, ...]:
        return tuple(lang.code for lang in self.languages)

    @property
    def translations(self) -> tuple[str, ...]:
        """Every language but the source one."""
        return tuple(code for code in self.language_codes if code != self.source_language)

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
    translation = ours.get("translation") or {}
    codes = [lang.code for lang in languages]
    source = translation.get("source", codes[0])
    if source not in codes:
        raise ConfigError(f"_config.yml: bookbuild.translation.source is {source!r}, "
                          f"not one of the languages ({', '.join(codes)})")
    glossary = translation.get("glossary")
    return Settings(root=root, frameworks=frameworks, languages=languages, config=config,
                    repository=load_repository(config), default_tab=default_tab,
                    source_language=source, strict=bool(translation.get("strict", False)),
                    glossary=root / glossary if glossary else None)
