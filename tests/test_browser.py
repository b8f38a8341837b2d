"""Both HTML editions in a real browser: Debian's headless Chromium, driven by Playwright.

The site built by `make html` (_build/html) is served on 127.0.0.1. Every request that leaves
localhost is blocked and, like any failed request, HTTP error or uncaught script error, fails the
test that caused it: the pages must work offline, with their own MathJax, fonts and scripts.
`make test-browser` runs these after `make html`; they also save screenshots of one page of each
edition, desktop and phone sized, to _build/screenshots/ for review.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urldefrag, urljoin, urlsplit
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from conftest import REPO
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, sync_playwright

from bookbuild.frontpage import SITEMAP
from bookbuild.notebooks import kernel_name
from bookbuild.settings import Settings

pytestmark = pytest.mark.browser

SITE = REPO / "_build" / "html"
SCREENSHOTS = REPO / "_build" / "screenshots"
CHAPTER = "deep-learning-computation/custom-layer"
PAGE = f"chapters/{CHAPTER}.html"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """A folder on an ephemeral localhost port, for as long as the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The built site on an ephemeral localhost port."""
    if not (SITE / "index.html").exists():
        pytest.fail("no site in _build/html: run `make html` (or `make test-browser`) first")
    with serve(SITE) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        pytest.fail(f"{chromium} is missing: `make chromium` installs Debian's chromium package")
    with sync_playwright() as playwright:
        # Playwright gives the browser a fresh temporary profile (--user-data-dir) of its own.
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


class Offline:
    """A browser context whose requests may only reach localhost (or local files); it records
    every blocked request, failed request, HTTP error and uncaught page error."""

    def __init__(self, browser: Browser, **options: object) -> None:
        self.problems: list[str] = []
        self.context: BrowserContext = browser.new_context(**{"locale": "en-US", **DESKTOP, **options})
        self.context.route("**/*", self._route)
        self.context.on("requestfailed", self._failed)
        self.context.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        self.context.on("weberror", lambda e: self.problems.append(f"page error: {e.error}"))

    def _route(self, route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in ("127.0.0.1", "localhost"):
            self.problems.append(f"blocked: {route.request.url}")
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def _failed(self, request: Request) -> None:
        if request.failure != "net::ERR_ABORTED":  # left behind by a navigation, not missing
            self.problems.append(f"failed: {request.url} ({request.failure})")

    def page(self, url: str) -> Page:
        page = self.context.new_page()
        page.goto(url, wait_until="load")
        return page

    def assert_clean(self) -> None:
        assert self.problems == [], "\n".join(self.problems)


@pytest.fixture
def offline(browser: Browser) -> Iterator[Offline]:
    session = Offline(browser)
    yield session
    session.context.close()
    session.assert_clean()


def selected(page: Page) -> list[str]:
    """The selected framework of every tab set in the framework sync group, in page order."""
    return page.evaluate("""() => [...document.querySelectorAll('.sd-tab-set')]
        .filter(set => set.querySelector(':scope > label[data-sync-group="framework"]'))
        .map(set => {
            const input = set.querySelector(':scope > input:checked');
            return input ? input.nextElementSibling.dataset.syncId : null;
        })""")


def visible_panels(page: Page) -> list[str]:
    """For each framework tab set, the sync id of the one panel a reader sees."""
    return page.evaluate("""() => [...document.querySelectorAll('.sd-tab-set')]
        .filter(set => set.querySelector(':scope > label[data-sync-group="framework"]'))
        .map(set => [...set.querySelectorAll(':scope > .sd-tab-content')]
            .filter(panel => panel.offsetParent !== null || panel.getClientRects().length)
            .map(panel => panel.previousElementSibling.dataset.syncId).join(','))""")


def assert_everywhere(page: Page, framework: str) -> None:
    """Every tab set offering ``framework`` shows it, and the run links are that framework's."""
    offering = page.evaluate("""(fw) => [...document.querySelectorAll('.sd-tab-set')]
        .filter(set => set.querySelector(':scope > label[data-sync-group="framework"]'))
        .map(set => !!set.querySelector(`:scope > label[data-sync-id="${fw}"]`))""", framework)
    assert len(offering) >= 5, "the test page should have several framework tab sets"
    expected = [framework if offers else None for offers in offering]
    assert [fw if offers else None for fw, offers in zip(selected(page), offering, strict=True)] == expected
    assert [fw if offers else None for fw, offers in zip(visible_panels(page), offering, strict=True)] == expected
    rows = page.locator(".bb-run__framework:visible")
    assert rows.count() == 1 and rows.first.get_attribute("data-framework") == framework


def click_tab(page: Page, framework: str, tab_set: int = 0) -> None:
    sets = page.locator(".sd-tab-set:has(> label[data-sync-group='framework'])")
    sets.nth(tab_set).locator(f":scope > label[data-sync-id='{framework}']").click()


def test_pytorch_first_and_one_click_switches_every_tab_set(offline: Offline, site: str) -> None:
    page = offline.page(f"{site}en/{PAGE}")
    assert_everywhere(page, "pytorch")  # the book's default, although MXNet is the first tab
    click_tab(page, "tensorflow", tab_set=3)
    assert_everywhere(page, "tensorflow")
    click_tab(page, "mxnet", tab_set=0)
    assert_everywhere(page, "mxnet")


def test_the_choice_survives_navigation_reload_and_new_tabs(offline: Offline, site: str) -> None:
    page = offline.page(f"{site}en/{PAGE}")
    click_tab(page, "tensorflow", tab_set=1)
    page.locator("a.left-prev").click()  # the section before, a page of its own
    page.wait_for_url(lambda url: PAGE not in url and "/en/chapters/" in url)
    page.locator("a.right-next").click()
    page.wait_for_url(f"**/en/{PAGE}")
    assert_everywhere(page, "tensorflow")
    page.reload(wait_until="load")
    assert_everywhere(page, "tensorflow")
    assert_everywhere(offline.page(f"{site}en/{PAGE}"), "tensorflow")


def test_the_address_can_pick_the_framework(offline: Offline, site: str) -> None:
    page = offline.page(f"{site}en/{PAGE}?framework=mxnet")
    assert_everywhere(page, "mxnet")
    page = offline.page(f"{site}en/{PAGE}")  # and it sticks
    assert_everywhere(page, "mxnet")
    page = offline.page(f"{site}en/{PAGE}?framework=jax")  # unknown: ignored, and dropped from the address
    assert_everywhere(page, "mxnet")
    assert "framework" not in page.url


def test_language_switch_opens_the_same_page_with_the_same_framework(offline: Offline, site: str) -> None:
    page = offline.page(f"{site}en/{PAGE}")
    click_tab(page, "tensorflow", tab_set=2)
    switch = page.locator("nav.bb-lang a.bb-lang__link")
    assert switch.count() == 1 and switch.is_visible() and switch.inner_text() == "PT"
    switch.click()
    page.wait_for_url(f"**/pt/{PAGE}?framework=tensorflow")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    assert "Camadas personalizadas" in page.locator("h1").first.inner_text()
    assert page.locator(".bb-run__title").inner_text() == "Execute esta página"
    assert_everywhere(page, "tensorflow")
    page.locator("nav.bb-lang a.bb-lang__link").click()
    page.wait_for_url(f"**/en/{PAGE}?framework=tensorflow")
    assert_everywhere(page, "tensorflow")


def test_run_links_follow_the_tab_and_open_committed_notebooks(offline: Offline, site: str,
                                                               settings: Settings) -> None:
    repository = settings.repository
    for lang in settings.language_codes:
        page = offline.page(f"{site}{lang}/{PAGE}")
        for framework in settings.frameworks:
            click_tab(page, framework.name)
            row = page.locator(".bb-run__framework:visible")
            assert row.count() == 1 and row.get_attribute("data-framework") == framework.name
            committed = f"notebooks/{lang}/{framework.name}/{CHAPTER}.ipynb"
            notebook = json.loads((REPO / committed).read_text())
            assert notebook["metadata"]["kernelspec"]["name"] == kernel_name(framework)

            binder = urlsplit(row.locator("a.bb-run__binder").get_attribute("href"))
            assert (binder.netloc, binder.path) == (
                "mybinder.org", f"/v2/gh/{repository.owner}/{repository.name}/{repository.branch}")
            assert parse_qs(binder.query) == {"labpath": [committed]}

            colab = row.locator("a.bb-run__colab")
            if framework.colab:
                assert colab.get_attribute("href") == (
                    f"https://colab.research.google.com/github/{repository.owner}/{repository.name}"
                    f"/blob/{repository.branch}/{committed}")
            else:
                assert colab.count() == 0
                assert "Binder" in row.locator(".bb-run__note").inner_text()

            download = row.locator("a.bb-run__download")
            assert download.get_attribute("download") is not None
            response = offline.context.request.get(urljoin(page.url, download.get_attribute("href")))
            assert response.status == 200  # the committed notebook, linked to the online edition
            served = json.loads(response.body())
            assert served["metadata"] == notebook["metadata"]
            assert [c for c in served["cells"] if c["cell_type"] == "code"] == [
                c for c in notebook["cells"] if c["cell_type"] == "code"]


def test_math_renders_without_a_network(offline: Offline, site: str) -> None:
    for url in (f"{site}en/{PAGE}", (SITE / "pt" / PAGE).as_uri()):  # served, and a downloaded copy
        page = offline.page(url)
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
        math = page.locator(".math")
        assert math.count() >= 10
        assert page.locator(".math:not(:has(mjx-container))").count() == 0  # every formula typeset
        assert page.locator("mjx-container[jax='CHTML']").count() >= math.count()


def test_a_collapsed_solution_opens_on_click(offline: Offline, site: str) -> None:
    page = offline.page(f"{site}pt/{PAGE}")
    solutions = page.locator("details.sd-dropdown")
    assert solutions.count() >= 1
    solution = solutions.first
    assert solution.locator("summary").inner_text().strip() == "Solução"
    assert solution.get_attribute("open") is None
    code = solution.locator(".sd-tab-content .cell_input")
    assert not code.first.is_visible()
    solution.locator("summary").click()
    assert solution.get_attribute("open") is not None
    assert code.filter(visible=True).count() == 1  # the selected framework's solution, and only it


def test_no_broken_internal_link_or_missing_asset(offline: Offline, site: str) -> None:
    """Visit every page reachable from the front door; every local link must lead somewhere that
    exists, down to the anchor; every asset a page loads must load (the context records failures)."""
    page = offline.context.new_page()
    queue, seen, anchors, files, ids = [f"{site}index.html"], set(), [], set(), {}
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        if url == f"{site}index.html":  # the front door redirects at once: read its links from the file
            links = [urljoin(url, href) for href in ("en/index.html", "pt/index.html")]
            assert all(f'href="{href}"' in (SITE / "index.html").read_text() for href in ("en/index.html",
                                                                                          "pt/index.html"))
        else:
            response = page.goto(url, wait_until="load")
            assert response is not None and response.ok, url
            local = SITE / unquote(urlsplit(url).path).lstrip("/")
            if 'http-equiv="Refresh"' in local.read_text():  # an edition's index.html: on to its front page
                page.wait_for_url(lambda now, left=url: now != left)
                page.wait_for_load_state("load")
                seen.add(page.url)
            links = page.eval_on_selector_all(
                "a[href], link[href][rel=index], link[href][rel=search], link[href][rel=next], link[href][rel=prev]",
                "links => links.map(a => a.href)")
            ids[page.url] = set(page.eval_on_selector_all("[id]", "found => found.map(e => e.id)"))
            # Every page switches to itself in the other edition.
            switch = page.locator("nav.bb-lang a.bb-lang__link")
            assert switch.count() == 1 and switch.is_visible(), page.url
            here, there = urlsplit(page.url).path, urlsplit(switch.evaluate("a => a.href")).path
            lang = here.split("/")[1]
            assert there == here.replace(f"/{lang}/", "/{}/".format({"en": "pt", "pt": "en"}[lang]), 1), page.url
        for link in links:
            target, fragment = urldefrag(link)
            if not target.startswith(site):
                assert urlsplit(target).scheme in ("https", "mailto", "javascript"), link
                continue
            if fragment:
                anchors.append((target, unquote(fragment), page.url))
            if target.endswith(".html"):
                queue.append(target)
            else:
                files.add(target)
    pages = {urlsplit(url).path for url in seen}
    for lang in ("en", "pt"):
        assert {f"/{lang}/{PAGE}", f"/{lang}/chapters/index.html", f"/{lang}/genindex.html",
                f"/{lang}/search.html"} <= pages
    for file in sorted(files):
        assert offline.context.request.get(file).status == 200, file
    for target, fragment, source in anchors:
        assert fragment in ids[target], f"{source} links to a missing #{fragment} of {target}"


TAGGED_EQUATION = re.compile(r'<a id="([^"]+)"></a>\n\$\$.*?\\tag\{([^}]*)\}\$\$', re.DOTALL)


def page_numbers(html: str) -> set[tuple[str, str, str]]:
    """What a page of an edition numbers: each reference (target id, as shown), each labelled
    equation's number, each entry of a part's table of contents; and each citation (the work's
    entry on the bibliography page, as shown: "Chen et al., 2015")."""
    article = BeautifulSoup(html, "html.parser").select_one("article")
    found = {("ref", urldefrag(a["href"]).fragment, a.get_text()) for a in article.select("a.reference.internal")
             if a.select_one("span.std-numref") or "#equation-" in a["href"]}
    found |= {("equation", span.a["href"].lstrip("#"), span.contents[0].strip())
              for span in article.select("span.eqno")}
    found |= {("toc", a["href"].removesuffix(".html"), a.get_text())
              for a in article.select(".toctree-wrapper a.reference.internal")}
    found |= {("cite", urldefrag(a["href"]).fragment, a.get_text()) for a in article.select("a.reference.internal")
              if urldefrag(a["href"]).url.endswith("/bibliography.html")}
    return found


def notebook_numbers(markdown: str, anchors: dict) -> set[tuple[str, str, str]]:
    """The same, as a reader notebook writes it: links, with their label as the target, and
    equations with their \\tag."""
    from docutils.nodes import make_id
    from markdown_it import MarkdownIt

    def target(label: str) -> str:
        anchor = anchors[label]
        return make_id(("equation-" if anchor.kind == "equation" else "") + label)

    found = set()
    for token in MarkdownIt("commonmark").parseInline(markdown.replace("\n\n", " ")):
        children = token.children or []
        for index, child in enumerate(children):
            if child.type == "link_open":
                href, shown = child.attrs["href"], children[index + 1].content
                page, fragment = urldefrag(str(href))
                if page.endswith("/bibliography.html"):  # a citation, linked to the online edition's entry
                    found.add(("cite", fragment, shown))
                elif fragment:
                    found.add(("ref", target(fragment), shown))
                elif page.endswith(".ipynb") and "://" not in page:  # not the Binder note's link
                    found.add(("toc", page.removesuffix(".ipynb"), shown))
    found |= {("equation", target(label), f"({number})") for label, number in TAGGED_EQUATION.findall(markdown)}
    return found


def test_notebooks_number_everything_as_the_pages_do(settings: Settings) -> None:
    """Sphinx numbers the pages; render_jupyter numbers the notebooks, with crossref.py's numbers.
    Every reference, equation number and contents entry of each page must read exactly as its
    notebooks write it (all frameworks' notebooks together: a page shows every framework's prose)."""
    from bookbuild.build import read_book
    from bookbuild.crossref import book_numbering

    chapters = read_book(settings)
    anchors = book_numbering(chapters, settings).anchors
    checked = 0
    for lang in settings.language_codes:
        for chapter in chapters:
            html = (SITE / lang / "chapters" / f"{chapter.name}.html").read_text(encoding="utf-8")
            written = set()
            for path in sorted((REPO / "notebooks" / lang).glob(f"*/{chapter.name}.ipynb")):
                notebook = json.loads(path.read_text(encoding="utf-8"))
                markdown = "\n\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
                written |= notebook_numbers(markdown, anchors)
            shown = page_numbers(html)
            assert shown == written, f"{lang}/{chapter.name}: pages {shown - written}, notebooks {written - shown}"
            checked += len(shown)
    assert checked >= 60  # the chapters' references, equations and contents, in both editions


def test_front_door_opens_the_readers_edition(browser: Browser, site: str) -> None:
    for locale, expected in (("pt-BR", "pt"), ("pt-PT", "pt"), ("de-DE", "en")):
        session = Offline(browser, locale=locale)
        page = session.context.new_page()
        page.goto(site, wait_until="commit")
        page.wait_for_url(f"**/{expected}/chapters/index.html", wait_until="commit")
        session.context.close()
        session.assert_clean()
    # A returning reader gets the edition they last read, whatever the browser's language.
    session = Offline(browser, locale="en-US")
    session.page(f"{site}pt/{PAGE}")
    page = session.context.new_page()
    page.goto(site, wait_until="commit")
    page.wait_for_url("**/pt/chapters/index.html", wait_until="commit")
    session.context.close()
    session.assert_clean()
    # Without JavaScript the front door offers both editions.
    session = Offline(browser, java_script_enabled=False)
    page = session.page(site)
    assert [a.get_attribute("href") for a in page.locator("main a").all()] == ["en/index.html", "pt/index.html"]
    assert page.locator("main a").nth(1).inner_text().startswith("Deep Learning na Prática")
    session.context.close()
    session.assert_clean()


@pytest.mark.parametrize("lang", ["en", "pt"])
def test_screenshots_of_desktop_and_phone(browser: Browser, site: str, lang: str) -> None:
    """The page as readers see it, with its tabs, run links and language switch in view; on a phone
    the page itself never scrolls sideways and prose stays at a readable size."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, options in (("desktop", DESKTOP), ("phone", PHONE)):
        session = Offline(browser, **options)
        page = session.page(f"{site}{lang}/{PAGE}")
        page.evaluate("() => Promise.all([MathJax.startup.promise, document.fonts.ready])")
        first_tabs = page.locator(".sd-tab-set:has(.cell)").first  # the first code, with its output
        for control in (page.locator("nav.bb-lang"), page.locator(".bb-run"), first_tabs):
            assert control.is_visible()
        if name == "phone":
            assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
            size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('article p')).fontSize)")
            assert size >= 15
        bottom = first_tabs.bounding_box()
        assert bottom is not None
        height = bottom["y"] + bottom["height"] + 24 + page.evaluate("() => window.scrollY")
        path = SCREENSHOTS / f"{lang}-{name}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled",  # no half-slid sidebar
                        clip={"x": 0, "y": 0, "width": options["viewport"]["width"], "height": height})
        assert path.stat().st_size > 20_000
        session.context.close()
        session.assert_clean()


def test_the_sitemap_lists_every_page_and_each_names_its_published_address(offline: Offline, site: str,
                                                                          settings: Settings) -> None:
    """sitemap.xml holds the front door and every page of both editions (chapters, the translation
    status page, the bibliography), at html.baseurl; each page, served, says that address is its
    canonical one."""
    root = settings.site_url
    response = offline.context.request.get(f"{site}sitemap.xml")
    assert response.status == 200
    locs = [loc.text for loc in ElementTree.fromstring(response.body()).iter(f"{{{SITEMAP}}}loc")]
    assert locs[0] == root and all(loc.startswith(root) for loc in locs)
    built = {path.relative_to(SITE).as_posix() for lang in settings.language_codes
             for path in [*(SITE / lang / "chapters").rglob("*.html"), SITE / lang / "translation-status.html",
                          SITE / lang / "bibliography.html"]}
    assert all((SITE / page).is_file() for page in built)
    assert {loc.removeprefix(root) for loc in locs[1:]} == built
    for loc in locs:
        page = offline.context.request.get(site + loc.removeprefix(root))
        assert page.status == 200, loc
        canonical = BeautifulSoup(page.text(), "html.parser").find_all("link", rel="canonical")
        assert [link["href"] for link in canonical] == [loc], loc


IMAGE_PAGES = ["model-construction", "parameters", "custom-layer", "use-gpu"]  # the figures and the plots


def expected_alt_texts(settings: Settings, lang: str, name: str) -> list[str]:
    """What each image of a page should say to a reader who cannot see it, from the sources: each
    figure's :alt: in the page's language, each plot's description in that language's notebooks."""
    from bookbuild.build import read_book
    from bookbuild.model import Figure, Prose

    chapter = next(c for c in read_book(settings) if c.name == f"deep-learning-computation/{name}")
    found = [part.alt for block in chapter.blocks if isinstance(block, Prose) and block.lang == lang
             for part in block.parts if isinstance(part, Figure)]
    for framework in settings.framework_names:
        notebook = json.loads((REPO / f"notebooks/{lang}/{framework}/{chapter.name}.ipynb").read_text())
        found += [" ".join("".join(output["data"]["text/plain"]).split())
                  for cell in notebook["cells"] for output in cell.get("outputs", [])
                  if "image/png" in output.get("data", {})]
    return found


@pytest.mark.parametrize("lang", ["en", "pt"])
def test_figures_and_plots_load_with_alternative_text_in_the_page_language(offline: Offline, site: str,
                                                                           settings: Settings, lang: str) -> None:
    counted = {"figure": 0, "plot": 0}
    for name in IMAGE_PAGES:
        page = offline.page(f"{site}{lang}/chapters/deep-learning-computation/{name}.html")
        images = page.evaluate("""() => Promise.all([...document.querySelectorAll('article img')].map(
            image => image.decode().then(() => true, () => false).then(decoded => ({
                alt: image.alt, src: image.getAttribute('src'), figure: !!image.closest('figure'),
                loaded: decoded && image.naturalWidth > 0}))))""")
        assert images and all(image["loaded"] for image in images), (name, images)
        assert sorted(" ".join(image["alt"].split()) for image in images) == \
            sorted(expected_alt_texts(settings, lang, name)), name
        for image in images:
            assert not re.search(r"\.(png|svg)$", image["alt"]), image  # never a file name
            if image["figure"]:
                # The Portuguese edition shows the Portuguese drawing: its words are Portuguese.
                svg = offline.context.request.get(urljoin(page.url, image["src"])).text()
                assert f'lang="{lang}"' in svg, image["src"]
            counted["figure" if image["figure"] else "plot"] += 1
    assert counted == {"figure": 3, "plot": 6}  # three drawings; a plot per framework in two sections


def contrast(png: bytes) -> tuple[float, float]:
    """The luminance of an image's background (its median pixel) and the contrast ratio of its
    darkest ink (the 1% darkest pixels) against it, as WCAG measures contrast."""
    from io import BytesIO

    from PIL import Image

    histogram = Image.open(BytesIO(png)).convert("L").histogram()
    total = sum(histogram)

    def percentile(fraction: float) -> float:
        seen = 0
        for value, count in enumerate(histogram):
            seen += count
            if seen >= fraction * total:
                return ((value / 255 + 0.055) / 1.055) ** 2.4  # sRGB to relative luminance
        return 1.0

    background, ink = percentile(0.5), percentile(0.01)
    return background, (background + 0.05) / (ink + 0.05)


def test_the_dark_theme_keeps_figures_and_plots_readable(offline: Offline, site: str) -> None:
    """In the dark theme every drawing and the visible plot keep a light background and dark ink
    (WCAG's 4.5:1 for text), on a page whose own background is dark. A transparent drawing with dark
    ink, which a dark page would swallow, fails the same measure."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "pt"):
        for name in ("model-construction", "custom-layer"):
            page = offline.page(f"{site}{lang}/chapters/deep-learning-computation/{name}.html")
            page.evaluate("() => { document.documentElement.dataset.theme = 'dark'; }")
            page_background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
            assert sum(map(int, re.findall(r"\d+", page_background)[:3])) < 3 * 60, page_background
            images = page.locator("article figure img, article .cell_output img").filter(visible=True)
            assert images.count() >= 1
            for index in range(images.count()):
                image = images.nth(index)
                image.scroll_into_view_if_needed()
                shot = image.screenshot(animations="disabled")
                (SCREENSHOTS / f"{lang}-{name}-dark-{index}.png").write_bytes(shot)
                background, ratio = contrast(shot)
                assert background > 0.4 and ratio >= 4.5, (lang, name, index, background, ratio)
    # The measure can fail: a drawing without a background of its own, kept out of the theme's help.
    page.evaluate("""() => {
        const image = document.createElement('img');
        image.className = 'dark-light';  // the theme leaves such images as they are
        image.id = 'transparent';
        image.src = 'data:image/svg+xml,' + encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" '
            + 'width="300" height="80"><text x="10" y="50" font-size="40" fill="#1f2933">dark ink</text></svg>');
        document.querySelector('article').prepend(image);
    }""")
    transparent = page.locator("#transparent")
    transparent.scroll_into_view_if_needed()
    background, ratio = contrast(transparent.screenshot())
    assert background < 0.1 and ratio < 4.5
