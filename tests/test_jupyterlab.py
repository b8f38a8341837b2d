"""The reader notebooks where readers run them: a real JupyterLab 4, in Debian's headless Chromium.

The test starts the toolchain's pinned JupyterLab (requirements.txt, the release Binder runs) on
127.0.0.1, over a copy of notebooks/ (JupyterLab saves what it runs; the committed files stay as
they are), with settings of its own: no news, no update check, no extension manager, nothing from
the reader's own Jupyter configuration. Every request that leaves localhost is blocked and, like
any failed request or page error, fails the test: this is JupyterLab offline, as in a checkout.

For one notebook per framework and language, it opens the notebook, which starts the kernel the
notebook names by itself, runs all cells from the Run menu, saves, and checks that
- the setup cell comes first, collapsed under its title;
- no rendered markdown shows raw markup (roles, targets, directives, fences, unrendered TeX);
- every link resolves: anchors in the notebook, sibling notebooks in the tree, and their anchors;
- every cell ran, no cell raised unless marked #@raises, and the outputs are the book's.
Following "Seção 1.1" and "(1.5)" opens the section's notebook at its heading and scrolls to the
equation; a screenshot of the Portuguese PyTorch notebook goes to _build/screenshots/.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
from conftest import REPO
from playwright.sync_api import Browser, Page
from test_browser import SCREENSHOTS, Offline, browser  # noqa: F401 - fixture

from bookbuild.files import notebook_path
from bookbuild.notebooks import kernel_display_name
from bookbuild.settings import Settings
from bookbuild.texts import text

pytestmark = pytest.mark.browser

CHAPTER = "deep-learning-computation/custom-layer"
# Raw markup that would mean Jupyter was given something it does not render.
RAW = ["{numref}", "{eq}", ":numref:", ":eqref:", ":label:", ":eqlabel:", ":begin_", ":end_", ")=", "```",
       ":::", "{figure}", "{table}", "{tableofcontents}", "$$", "\\tag", "\\mathbf"]
ANCHOR = re.compile(r'<a id="([^"]+)"></a>')
TAG = re.compile(r"\\tag\{([^}]*)\}")
STARTED = 120  # seconds for the server, and for a kernel, to start on a loaded machine


@dataclass
class Lab:
    url: str
    token: str
    root: Path  # the folder it serves: a copy of the repository's notebooks/

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(f"{self.url}api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def jupyterlab_command() -> list[str]:
    """JupyterLab of its environment (envs/jupyterlab.txt), whose python JUPYTERLAB_PYTHON names;
    its absence fails, so the test cannot pass unseen. Run as a module: the environment's scripts
    name, in their first line, the folder it was built in before it was moved into place."""
    python = os.environ.get("JUPYTERLAB_PYTHON")
    if not python or not Path(python).exists():
        pytest.fail("JUPYTERLAB_PYTHON does not name the python of an environment built from "
                    f"envs/jupyterlab.txt (it is {python!r}): run `make test-browser`", pytrace=False)
    return [python, "-m", "jupyterlab"]


@contextlib.contextmanager
def jupyterlab(root: Path) -> Iterator[Lab]:
    """JupyterLab on 127.0.0.1 over ``root``, with its configuration, settings and runtime files
    in ``root`` too; stopped, with its kernels, when the block ends."""
    config, settings = root / ".jupyter", root / ".lab-settings" / "@jupyterlab" / "apputils-extension"
    config.mkdir()
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    (config / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {"ip": "127.0.0.1", "port_retries": 0, "allow_root": True, "open_browser": False},
        "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                   "extension_manager": "readonly", "user_settings_dir": str(root / ".lab-settings"),
                   "workspaces_dir": str(root / ".lab-workspaces")},
    }))
    port, token = free_port(), secrets.token_hex(16)
    environment = {**os.environ, "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_RUNTIME_DIR": str(root / ".runtime")}
    log = (root / "jupyterlab.log").open("w")
    server = subprocess.Popen([*jupyterlab_command(), f"--port={port}", f"--IdentityProvider.token={token}",
                               f"--ServerApp.root_dir={root}"], env=environment, stdout=log, stderr=subprocess.STDOUT)
    lab = Lab(f"http://127.0.0.1:{port}/", token, root)
    try:
        deadline = time.monotonic() + STARTED
        while True:
            try:
                lab.api("status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(root / 'jupyterlab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield lab
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("jupyterlab")
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    with jupyterlab(root) as server:
        yield server


def open_notebook(page: Page, lab: Lab, path: str, display_name: str) -> None:
    """Open a notebook in a fresh workspace and wait until its own kernel is idle."""
    page.goto(f"{lab.url}lab/tree/{path}?reset&token={lab.token}", wait_until="load")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=STARTED * 1000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Spinner", state="detached", timeout=STARTED * 1000)
    kernel = page.locator(".jp-NotebookPanel-toolbar .jp-KernelName")
    kernel.filter(has_text=display_name).wait_for(timeout=STARTED * 1000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=STARTED * 1000)


def run_all_and_save(page: Page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
    page.wait_for_function("""() => {
        const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')];
        const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
        return status && status.dataset.status === 'idle' && !prompts.some(p => p.textContent.includes('*'));
    }""", timeout=600_000)
    page.locator(".jp-NotebookPanel .jp-Notebook").click(position={"x": 5, "y": 5})  # command mode, focused
    page.keyboard.press("Control+s")
    page.wait_for_selector(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty", state="detached", timeout=60_000)


def rendered_text(page: Page) -> list[str]:
    """The visible text of each rendered markdown cell, code spans and blocks left out."""
    return page.eval_on_selector_all(".jp-NotebookPanel .jp-MarkdownCell .jp-RenderedMarkdown", """cells =>
        cells.map(cell => {
            const copy = cell.cloneNode(true);
            copy.querySelectorAll('code, pre, mjx-container, .MathJax').forEach(e => e.remove());
            return copy.textContent;
        })""")


def assert_no_raw_markup(page: Page, path: str) -> None:
    deadline = time.monotonic() + 60  # MathJax typesets a moment after the markdown renders
    while True:
        left = [(index, raw) for index, shown in enumerate(rendered_text(page)) for raw in RAW if raw in shown]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert left == [], f"{path}: raw markup in rendered markdown cells: {left}"
    assert page.locator(".jp-NotebookPanel .jp-RenderedMarkdown mjx-container").count() >= 1


def assert_equations_numbered(page: Page, committed: dict, path: str) -> None:
    """MathJax shows each labelled equation's number, as the HTML edition does (its accessible
    MathML, which MathJax writes beside the glyphs, holds the number as text)."""
    markdown = "".join("".join(c["source"]) for c in committed["cells"] if c["cell_type"] == "markdown")
    tags = [f"({number})" for number in TAG.findall(markdown)]
    shown = page.eval_on_selector_all(".jp-NotebookPanel .jp-RenderedMarkdown mjx-assistive-mml mlabeledtr",
                                      "rows => rows.map(row => row.firstElementChild.textContent)")
    assert shown == tags, f"{path}: equation numbers {shown}, expected {tags}"


def anchors_of(notebook: dict) -> set[str]:
    return {label for cell in notebook["cells"] if cell["cell_type"] == "markdown"
            for label in ANCHOR.findall("".join(cell["source"]))}


def assert_links_resolve(page: Page, lab: Lab, path: str, settings: Settings) -> int:
    """Each link of the rendered markdown leads somewhere that exists; returns how many it checked."""
    links = page.eval_on_selector_all(
        ".jp-NotebookPanel .jp-RenderedMarkdown a[href]:not(.jp-InternalAnchorLink)",
        "links => links.map(a => [a.getAttribute('href'), a.textContent])")
    here = set(page.eval_on_selector_all(".jp-NotebookPanel [data-jupyter-id], .jp-NotebookPanel [id]",
                                         "found => found.map(e => e.dataset.jupyterId || e.id)"))
    allowed = ("https://mybinder.org/", settings.repository.url + "/", settings.site_url or "https://")
    for href, shown in links:
        target, fragment = urldefrag(href)
        if not target:
            assert fragment in here, f"{path}: [{shown}]({href}) names no anchor of the notebook"
        elif target.startswith("https://"):
            assert target.startswith(allowed), f"{path}: [{shown}]({href}) leaves the book"
        else:  # a relative link, which JupyterLab turns into its file address
            linked = unquote(urlsplit(target).path).split("/files/", 1)[-1]
            assert (lab.root / linked).is_file(), f"{path}: [{shown}]({href}): no such notebook"
            notebook = lab.api(f"contents/{linked}?content=1")["content"]  # type: ignore[index]
            assert not fragment or fragment in anchors_of(notebook), \
                f"{path}: [{shown}]({href}): {linked} has no anchor {fragment!r}"
    return len(links)


def assert_setup_cell_first_and_collapsed(page: Page, lang: str, colab: bool) -> None:
    kinds = page.eval_on_selector_all(".jp-NotebookPanel .jp-Notebook .jp-Cell",
                                      "cells => cells.map(c => c.classList.contains('jp-CodeCell') ? 'code' : 'md')")
    # First; where Colab cannot run the framework, after the one note that says where to run it.
    assert kinds.index("code") == (0 if colab else 1)
    first_code = page.locator(".jp-NotebookPanel .jp-CodeCell").first
    placeholder = first_code.locator(".jp-InputPlaceholder")
    assert placeholder.is_visible() and not first_code.locator(".jp-InputArea-editor").is_visible()
    assert placeholder.inner_text().strip() == f"#@title {text(lang, 'setup_title')}"


def sanitized(output: dict, rules: list[tuple[re.Pattern, str]]) -> str:
    shown = output.get("text") or output.get("data", {}).get("text/plain") or output.get("evalue", "")
    shown = "".join(shown) if isinstance(shown, list) else shown
    for pattern, replacement in rules:
        shown = pattern.sub(replacement, shown)
    return shown


def assert_ran_as_committed(saved: dict, committed: dict, path: str) -> None:
    """Every cell ran in order, raised only where marked, and printed what the book shows (up to
    what nbval's sanitizer lets differ)."""
    parser = configparser.ConfigParser()
    parser.read(REPO / "tests" / "nbval-sanitize.cfg")
    rules = [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]
    ran = [c for c in saved["cells"] if c["cell_type"] == "code"]
    book = [c for c in committed["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in ran] == list(range(1, len(ran) + 1)), f"{path}: not every cell ran"
    for index, (cell, expected) in enumerate(zip(ran, book, strict=True)):
        tags = cell["metadata"].get("tags", [])
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        assert bool(errors) == ("raises-exception" in tags), f"{path}: code cell {index}: {errors}"
        if "nbval-ignore-output" not in tags:
            assert [sanitized(o, rules) for o in cell["outputs"]] == [
                sanitized(o, rules) for o in expected["outputs"]], f"{path}: code cell {index}"


def stop_kernels(lab: Lab) -> None:
    for session in lab.api("sessions"):  # type: ignore[union-attr]
        lab.api(f"sessions/{session['id']}", method="DELETE")


CASES = [(lang, framework) for lang in ("pt", "en") for framework in ("mxnet", "pytorch", "tensorflow")]


@pytest.mark.parametrize("lang, framework", CASES)
def test_a_notebook_runs_and_reads_well_in_jupyterlab(browser: Browser, lab: Lab, settings: Settings,  # noqa: F811
                                                      lang: str, framework: str) -> None:
    chosen = settings.framework(framework)
    path = notebook_path(Path("notebooks"), lang, framework, CHAPTER).as_posix()
    session = Offline(browser, viewport={"width": 1280, "height": 1000})
    page = session.context.new_page()
    try:
        open_notebook(page, lab, path, kernel_display_name(chosen))
        assert_setup_cell_first_and_collapsed(page, lang, chosen.colab)
        committed = json.loads((REPO / path).read_text(encoding="utf-8"))
        assert_no_raw_markup(page, path)
        assert_equations_numbered(page, committed, path)
        assert assert_links_resolve(page, lab, path, settings) >= 2  # "Seção 1.1", "(1.5)"
        run_all_and_save(page)
        saved = json.loads((lab.root / path).read_text(encoding="utf-8"))
        assert_ran_as_committed(saved, committed, path)
        if (lang, framework) == ("pt", "pytorch"):
            follow_references_and_take_a_screenshot(page)
    finally:
        session.context.close()
        stop_kernels(lab)
    session.assert_clean()


def follow_references_and_take_a_screenshot(page: Page) -> None:
    """The equation reference scrolls to its equation; "Seção 1.1" opens its notebook at the section."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.keyboard.press("Control+b")  # the file browser out of the way
    page.set_viewport_size({"width": 1280, "height": 2400})  # from the setup cell to equation (1.5)
    page.locator(".jp-NotebookPanel .jp-Cell").first.evaluate("cell => cell.scrollIntoView({block: 'start'})")
    link = page.locator(".jp-RenderedMarkdown a", has_text="Seção 1.1").first
    equation = page.locator(".jp-RenderedMarkdown mjx-container[display='true']:has(mlabeledtr)").first
    page.wait_for_function("""() => {
        const equation = document.querySelector("mjx-container[display='true'] mlabeledtr");
        const box = equation && equation.closest('mjx-container').getBoundingClientRect();
        return box && box.bottom > 0 && box.bottom < window.innerHeight;
    }""", timeout=30_000)
    assert link.is_visible() and equation.is_visible()
    path = SCREENSHOTS / "jupyterlab-pt-pytorch-custom-layer.png"
    box = equation.bounding_box()
    assert box is not None
    page.screenshot(path=str(path), animations="disabled",
                    clip={"x": 0, "y": 0, "width": 1280, "height": box["y"] + box["height"] + 160})
    assert path.stat().st_size > 20_000
    page.set_viewport_size({"width": 1280, "height": 1000})

    reference = page.locator(".jp-RenderedMarkdown a", has_text="(1.5)").first
    reference.scroll_into_view_if_needed()
    reference.click()
    page.wait_for_function("""() => {
        const target = document.querySelector("[data-jupyter-id='eq_custom_dense']");
        const box = target && target.getBoundingClientRect();
        return box && box.top >= 0 && box.top < window.innerHeight;
    }""", timeout=10_000)

    link.scroll_into_view_if_needed()
    link.click()
    page.locator(".lm-TabBar-tab.jp-mod-current", has_text="model-construction.ipynb").wait_for(timeout=30_000)
    page.wait_for_function("""() => {
        const target = document.querySelector(
            ".jp-NotebookPanel:not(.lm-mod-hidden) [data-jupyter-id='sec_model_construction']");
        const box = target && target.getBoundingClientRect();
        return box && box.top >= 0 && box.top < window.innerHeight;
    }""", timeout=30_000)
