"""The book's settings, read from the ``bookbuild`` section of the top-level ``_config.yml``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import quote

from .files import YamlFile, load_yaml
from .model import BookError, Diagnostic

DEFAULT_TIMEOUT_S = 600  # per cell; `bookbuild.timeout` in _config.yml, `#@timeout` on a cell


class ConfigError(BookError):
    """_config.yml (or a file it names) says something the toolchain cannot use: the diagnostics
    say what, and where."""


@dataclass(frozen=True)
class Framework:
    name: str  # as written in `#@tab` and `:begin_tab:`
    display_name: str  # as shown on tabs, e.g. "PyTorch"
    requirements: Path  # the CPU kernel environment's pinned requirements
    gpu_requirements: Path  # the GPU kernel environment's (built only on request: several GB)
    setup: str  # first cell of every notebook: seeds the random generators
    colab: bool = True  # False where Colab's image cannot install the framework: readers get Binder
    module: str = ""  # the framework's module of the book's library, e.g. "torch" (dlbook.torch)


@dataclass(frozen=True)
class Library:
    """The book's own package, where the code that chapters mark ``#@save`` is collected: one
    module per framework (``from dlbook import torch as dlb``), generated below ``path``."""

    name: str  # the package, e.g. "dlbook"
    path: str  # its folder in the repository, e.g. "lib": pip installs it from there


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
    timeout: int = DEFAULT_TIMEOUT_S  # seconds a cell may run, unless it says `#@timeout`
    site_url: str | None = None  # where the site is published (html.baseurl), ending in "/"
    source_language: str = "en"  # the language the book is written in; the others translate it
    strict: bool = False  # translation gaps and glossary findings fail `check`, as `check --strict` does
    glossary: Path | None = None  # English term → approved translations (see glossary.py)
    # A section with code but none for some framework is a framework gap: a warning, shown to
    # readers; with every_framework (and in a strict check) an error.
    every_framework: bool = False
    bibliography: tuple[str, ...] = ()  # the BibTeX files (bibtex_bibfiles), relative to the root
    library: Library = Library(name="dlbook", path="lib")

    @cached_property
    def framework_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.frameworks)

    @cached_property
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

    @property
    def library_dir(self) -> Path:
        """The folder pip installs the library from (it holds pyproject.toml and the package)."""
        return self.root / self.library.path


GITHUB = re.compile(r"https://github\.com/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+?)(?:\.git)?/?")
NAME = "^[A-Za-z][A-Za-z0-9_-]*$"  # a framework or language as `#@tab` and `:begin_lang:` write it
IDENTIFIER = "^[A-Za-z_][A-Za-z0-9_]*$"  # a Python package or module name
TEXT = {"type": "string", "minLength": 1}

# What the toolchain reads from _config.yml: `repository` and the `bookbuild` section (Jupyter Book
# checks the rest). A key this schema does not know is an error, so that a typo is not ignored.
SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["repository", "bookbuild"],
    "properties": {
        # Jupyter Book's own key for the BibTeX files that :cite: draws on (sphinxcontrib-bibtex).
        "bibtex_bibfiles": {"oneOf": [TEXT, {"type": "array", "items": TEXT, "minItems": 1}]},
        "repository": {
            "type": "object",
            "required": ["url", "branch"],
            "properties": {"url": {"type": "string"}, "branch": TEXT},
        },
        "bookbuild": {
            "type": "object",
            "required": ["languages", "frameworks"],
            "additionalProperties": False,
            "properties": {
                "languages": {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": {"pattern": NAME},
                    "additionalProperties": {
                        "type": "object",
                        "required": ["sphinx_language", "title"],
                        "additionalProperties": False,
                        "properties": {"sphinx_language": TEXT, "title": TEXT, "subtitle": {"type": "string"}},
                    },
                },
                "default_tab": TEXT,
                "timeout": {"type": "integer", "minimum": 1},
                "every_framework": {"type": "boolean"},
                "library": {
                    "type": "object",
                    "required": ["name", "path"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string", "pattern": IDENTIFIER},
                        "path": {"type": "string", "pattern": "^[A-Za-z0-9_][A-Za-z0-9_.-]*$"},
                    },
                },
                "translation": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"source": TEXT, "strict": {"type": "boolean"}, "glossary": TEXT},
                },
                "frameworks": {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": {"pattern": NAME},
                    "additionalProperties": {
                        "type": "object",
                        "required": ["display_name", "requirements", "gpu_requirements", "setup"],
                        "additionalProperties": False,
                        "properties": {
                            "display_name": TEXT,
                            "requirements": TEXT,
                            "gpu_requirements": TEXT,
                            "setup": {"type": "string"},
                            "colab": {"type": "boolean"},
                            "module": {"type": "string", "pattern": IDENTIFIER},
                        },
                    },
                },
            },
        },
    },
}


def schema_problems(config: YamlFile) -> list[Diagnostic]:
    """Every way the file breaks the schema, at its line and named by its path (bookbuild.frameworks.mxnet).

    fastjsonschema (which nbformat uses for notebooks) tells quickly whether the file is valid;
    where it is not, jsonschema, slower to load but whose errors carry their paths, says why."""
    import fastjsonschema

    try:
        fastjsonschema.compile(SCHEMA)(config.data)
        return []
    except fastjsonschema.JsonSchemaValueException:
        pass
    from jsonschema import Draft7Validator

    found = []
    for error in sorted(Draft7Validator(SCHEMA).iter_errors(config.data), key=lambda e: list(map(str, e.path))):
        keys = list(error.absolute_path)
        where = ".".join(map(str, keys))
        message = error.message
        if error.validator == "required":
            missing = next(name for name in error.validator_value if name not in error.instance)
            message = f"missing key {missing!r}"
        elif error.validator == "minLength":
            message = "is empty"
        elif error.validator == "pattern":
            message = f"{error.instance!r} is not a valid name here (letters, digits and _, not starting with a digit)"
        elif error.validator == "propertyNames":
            message = f"{error.instance!r} is not a name (letters, digits, _ and -, starting with a letter)"
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            message = f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
            keys = [*keys, unknown[0]]
        found.append(config.diagnostic(keys, f"{where}: {message}" if where else message))
    return found


def load_repository(config: YamlFile) -> Repository:
    """``repository.url`` and ``repository.branch``: every Colab, Binder and source link derives from them."""
    spec = config.data["repository"]
    url, branch = spec["url"], spec["branch"]
    found = GITHUB.fullmatch(url)
    if not found:
        raise ConfigError([config.diagnostic(["repository", "url"], (
            "repository.url must be a GitHub repository such as https://github.com/owner/book "
            f"(Colab and Binder open notebooks from it), got {url!r}"))])
    return Repository(owner=found["owner"], name=found["name"], branch=branch)


# The repository.url that _config.yml ships with: a book published from another repository sets its
# own (`make check` warns until then), and html.baseurl with it.
PLACEHOLDER_REPOSITORY = "https://github.com/dl-hands-on/book"
SITE_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")


def load_site_url(config: YamlFile) -> str | None:
    """``html.baseurl``: the published site's address, from which each page's canonical URL and the
    sitemap derive. None when the book is not published anywhere."""
    html = config.data.get("html")
    url = html.get("baseurl") if isinstance(html, dict) else None
    if not url:
        return None
    if not isinstance(url, str) or not SITE_URL.fullmatch(url):
        raise ConfigError([config.diagnostic(["html", "baseurl"], (
            f"html.baseurl must be the address where the site is published, such as "
            f"https://owner.github.io/book/, got {url!r}"))])
    return url if url.endswith("/") else url + "/"


def config_warnings(settings: Settings) -> list[str]:
    """What is valid but probably not meant: a repository and a site address left as shipped."""
    found = []
    repository = settings.repository
    config = load_yaml(settings.root / "_config.yml", Path("_config.yml"))
    if repository.url == PLACEHOLDER_REPOSITORY:
        found.append(f"_config.yml:{config.line(['repository', 'url'])}: warning: repository.url is still the "
                     f"placeholder {PLACEHOLDER_REPOSITORY}: the Colab and Binder links, the license link and "
                     "the published site point there; set it to the book's own repository")
    pages = f"https://{repository.owner.lower()}.github.io/{repository.name}/"
    if settings.site_url and ".github.io/" in settings.site_url and settings.site_url != pages:
        found.append(f"_config.yml:{config.line(['html', 'baseurl'])}: warning: html.baseurl is "
                     f"{settings.site_url}, but GitHub Pages publishes {repository.url} at {pages}")
    return found


def load_settings(root: Path | str = ".") -> Settings:
    """The book's settings; ConfigError (at its line) if _config.yml is missing or breaks its schema."""
    root = Path(root).resolve()
    path = root / "_config.yml"
    if not path.is_file():
        raise ConfigError([Diagnostic(Path("_config.yml"), None, f"not found in {root}: run bookbuild in the "
                                      "book's folder (the one with _config.yml), or name it with --root")])
    config = load_yaml(path, Path("_config.yml"))
    if config.data is None or not isinstance(config.data, dict):
        raise ConfigError([Diagnostic(config.shown, 1, "the book's settings must be a YAML mapping "
                                      "(keys such as title, repository and bookbuild)")])
    if problems := schema_problems(config):
        raise ConfigError(problems)
    ours = config.data["bookbuild"]
    frameworks = tuple(
        Framework(
            name=name,
            display_name=spec["display_name"],
            requirements=root / spec["requirements"],
            gpu_requirements=root / spec["gpu_requirements"],
            setup=spec["setup"].rstrip("\n"),
            colab=spec.get("colab", True),
            module=spec.get("module", name),
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
        raise ConfigError([config.diagnostic(["bookbuild", "default_tab"], (
            f"bookbuild.default_tab is {default_tab!r}, not one of the frameworks ({', '.join(names)})"))])
    modules = [f.module for f in frameworks]
    for framework in frameworks:
        if modules.count(framework.module) > 1:
            raise ConfigError([config.diagnostic(["bookbuild", "frameworks", framework.name, "module"], (
                f"bookbuild.frameworks.{framework.name}.module: {framework.module!r} is the library module of "
                "another framework too: each framework needs a module of its own"))])
    library = Library(**ours["library"]) if "library" in ours else Library(name="dlbook", path="lib")
    translation = ours.get("translation", {})
    codes = [lang.code for lang in languages]
    source = translation.get("source", codes[0])
    if source not in codes:
        raise ConfigError([config.diagnostic(["bookbuild", "translation", "source"], (
            f"bookbuild.translation.source is {source!r}, not one of the languages ({', '.join(codes)})"))])
    glossary = translation.get("glossary")
    bibfiles = config.data.get("bibtex_bibfiles") or ()
    bibliography = (bibfiles,) if isinstance(bibfiles, str) else tuple(bibfiles)
    return Settings(root=root, frameworks=frameworks, languages=languages, config=config.data,
                    repository=load_repository(config), default_tab=default_tab,
                    timeout=ours.get("timeout", DEFAULT_TIMEOUT_S), site_url=load_site_url(config),
                    source_language=source, strict=translation.get("strict", False),
                    glossary=root / glossary if glossary else None,
                    every_framework=ours.get("every_framework", False), bibliography=bibliography,
                    library=library)
