"""The book's settings: the repository Colab and Binder open, the reader's first framework."""

from __future__ import annotations

import pytest
import yaml

from bookbuild.cli import main
from bookbuild.settings import ConfigError, load_settings


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
