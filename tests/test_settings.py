"""The book's settings: the repository Colab and Binder open, the reader's first framework."""

from __future__ import annotations

import pytest
import yaml

from bookbuild.cli import main
from bookbuild.settings import PLACEHOLDER_REPOSITORY, ConfigError, load_settings


def configure(book, **changes) -> None:
    config = yaml.safe_load((book / "_config.yml").read_text())
    for key, value in changes.items():
        section, _, name = key.partition("__")
        config[section][name] = value
    (book / "_config.yml").write_text(yaml.safe_dump(config))


def test_links_derive_from_the_configured_repository(tiny_book):
    configure(tiny_book, repository__url="https://github.com/someone/dl-book.git", repository__branch="release/2")
    repository = load_settings(tiny_book).repository
    path = "notebooks/pt/pytorch/part/section.ipynb"
    assert (repository.owner, repository.name) == ("someone", "dl-book")
    assert repository.colab_url(path) == ("https://colab.research.google.com/github/someone/dl-book/blob/"
                                          "release/2/notebooks/pt/pytorch/part/section.ipynb")
    assert repository.binder_url(path) == ("https://mybinder.org/v2/gh/someone/dl-book/release%2F2"
                                           "?labpath=notebooks/pt/pytorch/part/section.ipynb")
    assert repository.file_url("LICENSE") == "https://github.com/someone/dl-book/blob/release/2/LICENSE"


@pytest.mark.parametrize(("changes", "message"), [
    ({"repository__url": "https://gitlab.com/someone/book"}, "repository.url must be a GitHub repository"),
    ({"repository__url": "github.com/someone/book"}, "repository.url must be a GitHub repository"),
    ({"repository__branch": ""}, "repository.branch: is empty"),
    ({"bookbuild__default_tab": "jax"}, "bookbuild.default_tab is 'jax', not one of the frameworks"),
    ({"html__baseurl": "dl-hands-on.github.io/book"}, "html.baseurl must be the address where the site is published"),
])
def test_bad_settings_are_named_in_the_error(tiny_book, capsys, changes, message):
    configure(tiny_book, **changes)
    with pytest.raises(ConfigError, match=message):
        load_settings(tiny_book)
    assert main(["--root", str(tiny_book), "check"]) == 1
    assert message in capsys.readouterr().err


def test_the_book_opens_on_pytorch(settings):
    assert settings.default_tab == "pytorch"
    assert settings.default_framework == "mxnet"  # the owner of untagged cells is another matter


PROSE = ":begin_lang:`en`\n# Section\n:end_lang:\n\n:begin_lang:`pt`\n# Seção\n:end_lang:\n"


def line_of(book, text: str) -> int:
    return next(n for n, line in enumerate((book / "_config.yml").read_text().splitlines(), 1) if text in line)


def test_check_warns_but_passes_while_the_repository_and_site_are_left_as_shipped(tiny_book, capsys):
    section = tiny_book / "chapters" / "part" / "section.md"
    section.parent.mkdir(parents=True)
    section.write_text(PROSE)
    main(["--root", str(tiny_book), "confirm"])  # its translation recorded: no translation warning either
    assert main(["--root", str(tiny_book), "check"]) == 0
    err = capsys.readouterr().err
    line = line_of(tiny_book, f"url: {PLACEHOLDER_REPOSITORY}")
    assert f"_config.yml:{line}: warning: repository.url is still the placeholder {PLACEHOLDER_REPOSITORY}" in err

    configure(tiny_book, repository__url="https://github.com/someone/dl-book", html__baseurl="https://someone.github.io/dl-book")
    assert main(["--root", str(tiny_book), "check"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert load_settings(tiny_book).site_url == "https://someone.github.io/dl-book/"

    configure(tiny_book, html__baseurl="https://dl-hands-on.github.io/book/")  # forgot the site address
    assert main(["--root", str(tiny_book), "check"]) == 0
    assert (f"_config.yml:{line_of(tiny_book, 'baseurl:')}: warning: html.baseurl is https://dl-hands-on.github.io/book/,"
            " but GitHub Pages publishes https://github.com/someone/dl-book at https://someone.github.io/dl-book/"
            ) in capsys.readouterr().err

    configure(tiny_book, html__baseurl="https://book.example.org/")  # a custom domain is the owner's choice
    assert main(["--root", str(tiny_book), "check"]) == 0
    assert "warning" not in capsys.readouterr().err
