"""`bookbuild html` on a tiny three-section book: both editions built at once, with progress lines,
and a prose edit to one page rebuilds that page, not the book."""

from __future__ import annotations

import io

from conftest import build_tiny_book

from bookbuild import progress, site
from bookbuild.build import build_notebooks, read_book
from bookbuild.settings import load_settings

CODE = """\
:begin_lang:`en`
Text of section {n}.
:end_lang:

:begin_lang:`pt`
Texto da seção {n}.
:end_lang:

```{{.python .input}}
#@tab mxnet, pytorch, tensorflow
print({n})
```
"""


class Concurrency(progress.Display):
    most = 0

    def start(self, item):
        super().start(item)
        Concurrency.most = max(Concurrency.most, len(self.tally.running()))


def pages(root, lang: str) -> dict[str, tuple[int, bytes]]:
    html = root / "_build" / "html" / lang / "chapters" / "part"
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(html.glob("s*.html"))}


def test_both_editions_build_at_once_and_a_prose_edit_rewrites_its_page_only(tmp_path):
    root = build_tiny_book(tmp_path, CODE, 3)
    settings = load_settings(root)
    Concurrency.most = 0
    assert site.build_site(read_book(settings), settings, show=Concurrency) == 0
    assert Concurrency.most == 2 or site.schedule.cores() == 1
    before = {lang: pages(root, lang) for lang in ("en", "pt")}
    assert sorted(before["pt"]) == ["s1.html", "s2.html", "s3.html"] and "Texto da seção 3." in \
        before["pt"]["s3.html"][1].decode()

    section = root / "chapters" / "part" / "s3.md"
    section.write_text(section.read_text().replace("Texto da seção 3.", "Outro texto da seção 3."))
    chapters = read_book(settings)
    assert build_notebooks(chapters, settings, settings.notebooks_dir, log=lambda m: None).kernels_started == 0
    out = io.StringIO()
    assert site.build_site(chapters, settings, show=lambda *a, **k: progress.display(*a, stream=out, **k)) == 0
    after = {lang: pages(root, lang) for lang in ("en", "pt")}
    assert "Outro texto da seção 3." in after["pt"]["s3.html"][1].decode()
    assert after["pt"]["s2.html"] == before["pt"]["s2.html"]  # not rewritten: same bytes, same time
    assert after["en"]["s2.html"] == before["en"]["s2.html"]
    assert after["en"]["s3.html"][1] == before["en"]["s3.html"][1]  # the English page did not change
    lines = out.getvalue()
    assert "html: started en edition" in lines and "html: finished pt edition" in lines
    assert "html: ended: 2/2 done" in lines
