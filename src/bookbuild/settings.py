"""The book's settings, read from the ``bookbuild`` section of the top-level ``_config.yml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Framework:
    name: str  # as written in `#@tab` and `:begin_tab:`
    display_name: str  # as shown on tabs, e.g. "PyTorch"
    requirements: Path  # the CPU kernel environment's pinned requirements
    gpu_requirements: Path  # the GPU kernel environment's (built only on request: several GB)
    setup: str  # first cell of every notebook: seeds the random generators


@dataclass(frozen=True)
class Language:
    code: str  # as written in `:begin_lang:`, e.g. "pt"
    sphinx_language: str  # e.g. "pt_BR", for the theme's labels and the search index
    title: str
    subtitle: str = ""


@dataclass(frozen=True)
class Settings:
    root: Path
    frameworks: tuple[Framework, ...]
    languages: tuple[Language, ...]
    config: dict  # the whole _config.yml, from which each edition's config is derived

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
    return Settings(root=root, frameworks=frameworks, languages=languages, config=config)
