"""The site's front door, which sends each reader to their edition, and its sitemap.xml."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import yaml

from . import bibliography
from .edition import STATUS_PAGE
from .model import Chapter
from .settings import Settings
from .texts import text

# The edition a reader last opened (set by static/bookbuild.js), so the front door remembers it.
LANGUAGE_KEY = "dlbook-language"
LOGO = Path(__file__).parent / "static" / "bookbuild-logo.svg"


def front_page(settings: Settings) -> str:
    """Each edition's first page, the root of _toc.yml (its index.html only redirects there)."""
    return yaml.safe_load((settings.root / "_toc.yml").read_text(encoding="utf-8"))["root"] + ".html"


def root_index(settings: Settings, shared: set[str] | frozenset[str] = frozenset()) -> str:
    """The front door of the site: it sends a reader to the edition they read last or, the first
    time, to the first edition their browser's languages ask for; without JavaScript it offers both."""
    codes = [lang.code for lang in settings.languages]
    cards = "\n".join(
        f'''    <li><a href="{lang.code}/index.html" hreflang="{lang.tag}" lang="{lang.tag}">
      <strong>{html.escape(lang.title)}</strong>
      <span>{html.escape(lang.subtitle)}</span>
      <em>{html.escape(text(lang.code, "read_edition"))} →</em></a></li>'''
        for lang in settings.languages)
    logo = LOGO.read_text(encoding="utf-8").strip()
    # The editions' shared static files are published once, at the site's root (publish.py).
    icon = f"_static/{LOGO.name}" if f"_static/{LOGO.name}" in shared else f"{codes[0]}/_static/{LOGO.name}"
    published = ""  # where the site is published: its address, and each edition's
    if settings.site_url:
        root = html.escape(settings.site_url)
        published = f'\n  <link rel="canonical" href="{root}">' + "".join(
            f'\n  <link rel="alternate" hreflang="{lang.tag}" href="{root}{lang.code}/{front_page(settings)}">'
            for lang in settings.languages)
    return f"""<!DOCTYPE html>
<html lang="{settings.languages[0].tag}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(" · ".join(lang.title for lang in settings.languages))}</title>{published}
  <link rel="icon" href="{icon}" type="image/svg+xml">
  <script>
    (function () {{
      var editions = {json.dumps(codes)};
      var chosen = null;
      try {{ chosen = window.localStorage.getItem("{LANGUAGE_KEY}"); }} catch (error) {{}}
      if (editions.indexOf(chosen) < 0) {{
        chosen = editions[0];
        var wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
        for (var i = 0; i < wanted.length; i++) {{
          var code = String(wanted[i] || "").toLowerCase().split("-")[0];
          if (editions.indexOf(code) >= 0) {{ chosen = code; break; }}
        }}
      }}
      window.location.replace(chosen + "/index.html");
    }})();
  </script>
  <style>
    body {{ margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
           color: #1f2933; background: #f7f9fb; }}
    main {{ max-width: 40rem; margin: 0 auto; padding: 3rem 1.25rem; text-align: center; }}
    main > svg {{ width: 4rem; height: 4rem; }}
    ul {{ list-style: none; padding: 0; margin: 2rem 0 0; display: grid; gap: 1rem; }}
    a {{ display: block; padding: 1.25rem 1.5rem; border: 1px solid #d5dde5; border-radius: .75rem;
        background: #fff; color: inherit; text-decoration: none; }}
    a:hover, a:focus {{ border-color: #1a6f8f; box-shadow: 0 2px 10px rgba(26, 111, 143, .15); }}
    strong {{ display: block; font-size: 1.4rem; }}
    span {{ display: block; margin: .35rem 0 .75rem; color: #52606d; }}
    em {{ font-style: normal; color: #1a6f8f; font-weight: 600; }}
  </style>
</head>
<body>
  <main>
    {logo}
    <ul>
{cards}
    </ul>
  </main>
</body>
</html>
"""


SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML = "http://www.w3.org/1999/xhtml"


def sitemap(chapters: Sequence[Chapter], settings: Settings) -> str:
    """sitemap.xml for the published site: the front page, then every page of every edition (the
    chapters, the translation status page and, when the chapters cite any work, the bibliography),
    each with its counterparts in the other languages (hreflang alternates). No dates: a rebuild of
    an unchanged book gives the same bytes."""
    root = settings.site_url
    ET.register_namespace("", SITEMAP)
    ET.register_namespace("xhtml", XHTML)
    urlset = ET.Element(f"{{{SITEMAP}}}urlset")
    ET.SubElement(ET.SubElement(urlset, f"{{{SITEMAP}}}url"), f"{{{SITEMAP}}}loc").text = root
    pages = [f"chapters/{chapter.name}.html" for chapter in chapters] + [f"{STATUS_PAGE}.html"]
    if settings.bibliography and any(chapter.citations for chapter in chapters):
        pages.append(f"{bibliography.PAGE}.html")
    for page in sorted(pages):
        for language in settings.languages:
            url = ET.SubElement(urlset, f"{{{SITEMAP}}}url")
            ET.SubElement(url, f"{{{SITEMAP}}}loc").text = f"{root}{language.code}/{page}"
            for other in settings.languages:
                ET.SubElement(url, f"{{{XHTML}}}link", rel="alternate", hreflang=other.tag,
                              href=f"{root}{other.code}/{page}")
    ET.indent(urlset)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(urlset, encoding="unicode") + "\n"
