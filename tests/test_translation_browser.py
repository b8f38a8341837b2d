"""A chapter imported from an interleaved file, in both editions, in headless Chromium.

The fixture in the shape of a translation caught midway (tests/fixtures/import/interleaved.md) is
imported into a small book whose frameworks all run on the toolchain's own kernel; its notebooks are
executed and both editions built, offline. In the Portuguese edition the imported Portuguese shows
with draft notices and the English-only headings and passages with "not translated" notices and
``lang="en"``; in the English edition the Portuguese-only title shows with its notice and
``lang="pt-BR"``. A screenshot of each page goes to _build/screenshots/ for review.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from conftest import FIXTURES, write_tiny_book
from playwright.sync_api import Browser, Page
from test_browser import SCREENSHOTS, Offline, browser, serve  # noqa: F401 - fixture

from bookbuild import envs
from bookbuild.build import build_notebooks, read_book
from bookbuild.importer import import_chapter
from bookbuild.settings import load_settings
from bookbuild.site import build_site

pytestmark = pytest.mark.browser
PAGE = "chapters/part/section.html"
EDIT = "https://github.com/dl-hands-on/book/edit/main/chapters/part/section.md"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = write_tiny_book(tmp_path_factory.mktemp("imported-book"))
    (root / "_toc.yml").write_text("format: jb-book\nroot: chapters/part/section\noptions:\n  numbered: true\n"
                                   "chapters:\n  - file: chapters/part/windows\n")
    (root / "chapters" / "part").mkdir()
    shutil.copy(FIXTURES / "import" / "windows.md", root / "chapters" / "part" / "windows.md")
    settings = load_settings(root)
    import_chapter(FIXTURES / "import" / "interleaved.md", root / "chapters" / "part" / "section.md", settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(envs, "ensure_kernel", lambda framework, log=print, device="cpu": "python3")
        chapters = read_book(settings)
        assert build_notebooks(chapters, settings, settings.notebooks_dir, log=lambda _: None).failures == []
    assert build_site(chapters, settings) == 0
    with serve(root / "_build" / "html") as url:
        yield url


def language_of(page: Page, selector: str, text: str) -> str:
    """The language a screen reader uses for the element holding ``text``: its closest lang."""
    element = page.locator(selector, has_text=text).first
    assert element.is_visible(), text
    return element.evaluate("e => e.closest('[lang]').getAttribute('lang')")


def notice_before(page: Page, text: str) -> str:
    """The class of the nearest translation notice above the element holding ``text``."""
    return page.evaluate("""(text) => {
        const all = [...document.querySelectorAll('article .bb-translation, article h1, article h2, article p')];
        const at = all.findIndex(e => !e.classList.contains('bb-translation') && e.textContent.includes(text));
        const notice = all.slice(0, at).reverse().find(e => e.classList.contains('bb-translation'));
        return notice ? notice.className : '';
    }""", text)


def test_the_portuguese_edition_shows_drafts_and_untranslated_passages(browser: Browser, site: str) -> None:  # noqa: F811
    session = Offline(browser)
    page = session.page(f"{site}pt/{PAGE}")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    # The imported Portuguese, in the page's language, each passage under a draft notice.
    assert language_of(page, "article p", "Uma média móvel suaviza") == "pt-BR"
    assert "bb-translation--draft" in notice_before(page, "Uma média móvel suaviza")
    drafts = page.locator(".bb-translation--draft")
    assert drafts.count() == 5 and drafts.first.is_visible()
    assert "Tradução automática, ainda não revisada." in drafts.first.inner_text()
    # English-only headings and text, in English, marked as such, under a "not translated" notice.
    for text in ("A Window of Three", "Summary", "Exercises"):
        assert language_of(page, "article h2", text) == "en"
        assert "bb-translation--missing" in notice_before(page, text)
    assert language_of(page, "article p", "Any tensor library computes") == "en"
    missing = page.locator(".bb-translation--missing")
    assert missing.count() == 4
    assert "Este trecho ainda não foi traduzido" in missing.first.inner_text()
    assert missing.first.locator("a").get_attribute("href") == EDIT
    # The mangled reference was repaired: it resolves to the other chapter's section.
    assert page.locator("article p", has_text="Guardamos").locator("a[href*='windows']").count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "imported-pt.png"), full_page=True, animations="disabled")
    session.context.close()
    session.assert_clean()


def test_the_english_edition_shows_the_portuguese_only_title_in_portuguese(browser: Browser, site: str) -> None:  # noqa: F811
    session = Offline(browser)
    page = session.page(f"{site}en/{PAGE}")
    assert language_of(page, "article h1", "Médias móveis") == "pt-BR"
    notice = page.locator(".bb-translation--missing")
    assert notice.count() == 1 and "not in English yet" in notice.inner_text()
    assert language_of(page, "article p", "A moving average smooths") == "en"
    assert page.locator(".bb-translation--draft").count() == 0  # drafts concern the Portuguese edition only
    assert page.locator("article", has_text="Uma média móvel").count() == 0
    session.context.close()
    session.assert_clean()


def test_the_translation_status_page_lists_the_gaps(browser: Browser, site: str) -> None:  # noqa: F811
    session = Offline(browser)
    page = session.page(f"{site}pt/translation-status.html")
    assert page.locator("article h1").inner_text().startswith("Estado da tradução")
    links = page.locator("article li a")
    assert links.count() == 10  # 5 drafts and 4 missing in Portuguese, 1 missing in English
    assert links.first.get_attribute("href").startswith(
        "https://github.com/dl-hands-on/book/blob/main/chapters/part/section.md#L")
    switch = page.locator("nav.bb-lang a.bb-lang__link").get_attribute("href")
    assert switch.split("?")[0].endswith("en/translation-status.html")
    session.context.close()
    session.assert_clean()
