"""The reader: the dialect, with language blocks, into the document model."""

from __future__ import annotations

from pathlib import Path

from bookbuild.model import Code, Equation, Figure, Heading, Markdown, Prose, Reference, Table
from bookbuild.read import read_chapter
from bookbuild.render_myst import myst_prose

BILINGUAL = """\
:begin_lang:`en`
# Layers
See :numref:`sec_layers` and :eqref:`eq_sum`.
:end_lang:

:begin_lang:`pt`
# Camadas
Veja :numref:`sec_layers`.
:end_lang:

:label:`sec_layers`

$$y = \\sum_i x_i$$
:eqlabel:`eq_sum`

```{.python .input}
x = 1
```

```{.python .input}
#@tab pytorch, tensorflow
#@solution
y = 2
```

```{.python .input}
#@tab all
#@varies
#@raises
z = 1 / 0
```

:begin_lang:`en`
:begin_tab:`pytorch`
Only PyTorch readers see this.
:end_tab:
:end_lang:

:begin_lang:`pt`
:begin_tab:`pytorch`
Só quem lê PyTorch vê isto.
:end_tab:
:end_lang:
"""


def read(text: str, settings, name: str = "chapter.md"):
    return read_chapter(Path(name), settings, text=text)


def test_prose_is_split_by_language_and_framework(settings):
    chapter = read(BILINGUAL, settings)
    assert chapter.diagnostics == []
    prose = [b for b in chapter.blocks if isinstance(b, Prose)]
    assert [(p.lang, p.frameworks) for p in prose] == [
        ("en", None), ("pt", None), (None, None),
        ("en", frozenset({"pytorch"})), ("pt", frozenset({"pytorch"})),
    ]
    assert prose[3].shown_to("en", "pytorch") and not prose[3].shown_to("en", "mxnet")
    assert not prose[3].shown_to("pt", "pytorch")


def test_one_label_names_the_heading_of_every_language(settings):
    chapter = read(BILINGUAL, settings)
    en, pt = (b for b in chapter.blocks if isinstance(b, Prose) and b.lang and not b.frameworks)
    assert myst_prose(en).startswith("(sec_layers)=\n# Layers")
    assert myst_prose(pt).startswith("(sec_layers)=\n# Camadas")
    assert [(t.name, t.kind) for t in chapter.targets] == [("sec_layers", "section"), ("eq_sum", "equation")]


def test_roles_and_equation_labels_become_myst(settings):
    chapter = read(BILINGUAL, settings)
    assert "See {numref}`sec_layers` and {eq}`eq_sum`." in myst_prose(chapter.blocks[0])
    assert myst_prose(chapter.blocks[2]) == "$$y = \\sum_i x_i$$ (eq_sum)"
    assert [(r.name, r.line, r.role) for r in chapter.references] == [
        ("sec_layers", 3, "numref"), ("eq_sum", 3, "eqref"), ("sec_layers", 8, "numref")]


def test_code_cells_get_frameworks_and_markers_as_d2lbook_does(settings):
    chapter = read(BILINGUAL, settings)
    code = [b for b in chapter.blocks if isinstance(b, Code)]
    assert [(c.frameworks, c.line) for c in code] == [
        (("mxnet",), 16), (("pytorch", "tensorflow"), 20), (("mxnet", "pytorch", "tensorflow"), 26)]
    assert [c.source for c in code] == ["x = 1", "y = 2", "z = 1 / 0"]
    assert (code[1].solution, code[1].varies) == (True, False)
    assert (code[2].varies, code[2].raises) == (True, True)
    assert [len(chapter.code_cells(f)) for f in settings.framework_names] == [2, 2, 2]


def test_multi_line_equation_label_goes_on_the_closing_line(settings):
    chapter = read("$$\na = b\n$$\n:eqlabel:`eq_ab`\n", settings)
    assert myst_prose(chapter.blocks[0]) == "$$\na = b\n$$ (eq_ab)"


def test_save_marker_stays_in_the_code(settings):
    chapter = read("```{.python .input}\n#@tab pytorch\n#@save\ndef f():\n    pass\n```\n", settings)
    assert chapter.blocks[0].source == "#@save\ndef f():\n    pass"


def test_plain_fences_are_prose_and_toc_becomes_a_table_of_contents(settings):
    text = "```python\n:begin_tab:`nothing`\n```\n\n```toc\n:maxdepth: 2\n\nintro\n```\n"
    chapter = read(text, settings)
    assert chapter.diagnostics == []
    assert myst_prose(chapter.blocks[0]).startswith("```python\n:begin_tab:`nothing`\n```")
    assert myst_prose(chapter.blocks[0]).endswith("```{tableofcontents}\n```")


def test_figure_label_becomes_a_named_figure(settings):
    chapter = read("![A diagram.](img/diagram.svg)\n:label:`fig_diagram`\n", settings)
    assert myst_prose(chapter.blocks[0]) == "```{figure} img/diagram.svg\n:name: fig_diagram\n\nA diagram.\n```"
    assert chapter.targets[0].kind == "figure"


def test_a_label_after_nothing_is_an_error(settings):
    chapter = read("Some text.\n\n:label:`sec_nothing`\n", settings)
    assert [(d.line, d.message) for d in chapter.diagnostics] == [
        (3, "label 'sec_nothing' names nothing: put it right after a heading, a figure or a table")]


def test_a_framework_needs_a_cell_of_its_own_as_in_d2lbook(settings):
    text = "```{.python .input}\na = 1\n```\n\n```{.python .input}\n#@tab all\nb = 2\n```\n\n" \
           "```{.python .input}\n#@tab pytorch\nc = 3\n```\n"
    chapter = read(text, settings)
    assert [[c.source for c in chapter.code_cells(f)] for f in settings.framework_names] == [
        ["a = 1", "b = 2"], ["b = 2", "c = 3"], []]
    assert not chapter.has_framework("tensorflow")
    assert read("No code at all.\n", settings).has_framework("tensorflow")


def test_d2lbook_1_cell_magics_and_branches(settings):
    text = ("```{.python .input}\n%load_ext d2lbook.tab\ntab.interact_select(['mxnet'])\n```\n\n"
            "```{.python .input}\n%%tab all\nif tab.selected('mxnet'):\n    x = 1\n"
            "if tab.selected('pytorch', 'tensorflow'):\n    x = 2\nprint(x)\n```\n\n"
            "```{.python .input}\n%%tab pytorch, tensorflow\ny = x\n```\n")
    chapter = read(text, settings)
    assert [[c.source for c in chapter.code_cells(f)] for f in settings.framework_names] == [
        ["x = 1\nprint(x)"], ["x = 2\nprint(x)", "y = x"], ["x = 2\nprint(x)", "y = x"]]


def test_all_cannot_be_combined_with_names(settings):
    chapter = read("```{.python .input}\n#@tab all, pytorch\nx = 1\n```\n", settings)
    assert [(d.line, d.message) for d in chapter.diagnostics] == [
        (2, "`all` stands alone: it cannot be combined with framework names")]


# -- the model's structure, as later renderers read it ------------------------------------------------

def parts(chapter, kind):
    return [part for block in chapter.blocks if isinstance(block, Prose) for part in block.parts
            if isinstance(part, kind)]


def test_headings_equations_and_references_are_data_with_their_lines(settings):
    chapter = read(BILINGUAL, settings)
    headings = parts(chapter, Heading)
    assert [(h.level, h.title, h.line, h.label) for h in headings] == [
        (1, "Layers", 2, "sec_layers"), (1, "Camadas", 7, "sec_layers")]
    assert [(e.line, e.label) for e in parts(chapter, Equation)] == [(13, "eq_sum")]
    assert [(h.line, h.lang, h.level) for h in chapter.headings] == [(2, "en", 1), (7, "pt", 1)]
    first = chapter.blocks[0].parts[1]  # the paragraph after the English heading
    assert isinstance(first, Markdown)
    assert first.inline == ("See ", Reference("sec_layers", 3, "numref"), " and ", Reference("eq_sum", 3, "eqref"), ".")


def test_a_labelled_table_takes_the_caption_line_before_it(settings):
    text = ":Sizes of the layers\n\n| a | b |\n|---|---|\n| 1 | 2 |\n:label:`tab_sizes`\n"
    chapter = read(text, settings)
    assert chapter.diagnostics == []
    (table,) = parts(chapter, Table)
    assert (table.caption, table.label, table.line) == (("Sizes of the layers",), "tab_sizes", 3)
    assert myst_prose(chapter.blocks[0]) == ("```{table} Sizes of the layers\n:name: tab_sizes\n\n"
                                      "| a | b |\n|---|---|\n| 1 | 2 |\n```")
    assert [(t.name, t.kind) for t in chapter.targets] == [("tab_sizes", "table")]


def test_a_figure_caption_may_wrap_and_take_a_width(settings):
    text = "Before.\n\n![A caption that\nwraps onto a second line.](img/x.svg)\n:width:`300px`\n:label:`fig_x`\n"
    chapter = read(text, settings)
    assert chapter.diagnostics == []
    (figure,) = parts(chapter, Figure)
    assert (figure.path, figure.label, figure.options, figure.line) == ("img/x.svg", "fig_x", (("width", "300px"),), 3)
    assert myst_prose(chapter.blocks[0]) == ("Before.\n\n```{figure} img/x.svg\n:name: fig_x\n:width: 300px\n\n"
                                      "A caption that\nwraps onto a second line.\n```")


def test_a_longer_fence_shows_a_fence_and_markers_inside_it(settings):
    text = "````markdown\n```{.python .input}\n:begin_lang:`en`\n```\n````\n"
    chapter = read(text, settings)
    assert chapter.diagnostics == [] and not any(isinstance(b, Code) for b in chapter.blocks)
    assert myst_prose(chapter.blocks[0]) == text.rstrip("\n")


def test_dollars_in_inline_code_do_not_move_an_equation_label(settings):
    text = "Text with `$$` in code.\n\n$$a = b$$\n:eqlabel:`eq_ab`\n\nMore `$$`.\n\n$$c = d$$\n:eqlabel:`eq_cd`\n"
    chapter = read(text, settings)
    assert chapter.diagnostics == []
    assert [(e.text, e.label) for e in parts(chapter, Equation)] == [("$$a = b$$", "eq_ab"), ("$$c = d$$", "eq_cd")]


def test_prose_is_kept_line_for_line(settings):
    text = ("Para one\nwraps.\n\n\n- a list\n- of two\n\n> a quote\n\n[a link]: https://example.org\n\n"
            "    indented code\n\n---\n\n<div>html</div>\n")
    chapter = read(text, settings)
    assert chapter.diagnostics == []
    assert [myst_prose(block) for block in chapter.blocks] == [text.rstrip("\n")]


def test_text_after_a_marker_is_reported_and_still_read(settings):
    chapter = read(":begin_lang:`en` # Title\nText.\n:end_lang:\n", settings)
    assert [(d.line, d.message) for d in chapter.diagnostics] == [
        (1, "text after the marker :begin_lang:`en`: a marker stands alone on its line "
            "(move '# Title' to a line of its own)")]
    assert myst_prose(chapter.blocks[0]) == "# Title\nText." and chapter.blocks[0].lang == "en"
    assert [(h.line, h.lang) for h in chapter.headings] == [(1, "en")]


def test_a_shared_label_needs_a_heading_in_every_language(settings):
    text = ":begin_lang:`en`\nNo heading.\n:end_lang:\n\n:begin_lang:`pt`\n# Título\n:end_lang:\n\n:label:`sec_x`\n"
    chapter = read(text, settings)
    assert [(d.line, d.message) for d in chapter.diagnostics] == [
        (9, "label 'sec_x' names a heading in pt but none in en")]


def test_a_shared_label_after_a_heading_not_translated_yet_labels_it(settings):
    """A passage whose translation is not written yet (no 'pt' block at all) is a translation gap,
    not a label error: the label names the English heading, which the Portuguese edition shows."""
    text = (":begin_lang:`en`\n# Title\n:end_lang:\n\n:begin_lang:`pt`\n# Título\n:end_lang:\n\n"
            ":begin_lang:`en`\n## New\nNot translated yet.\n:end_lang:\n\n:label:`sec_new`\n")
    chapter = read(text, settings)
    assert chapter.diagnostics == []
    assert [(t.name, t.line, t.kind) for t in chapter.targets] == [("sec_new", 14, "section")]
    [heading] = [p for b in chapter.blocks if isinstance(b, Prose) for p in b.parts
                 if isinstance(p, Heading) and p.level == 2]
    assert (heading.title, heading.label) == ("New", "sec_new")


def test_markdown_it_line_tables_are_built_as_markdown_it_builds_them():
    from markdown_it.rules_block import StateBlock

    from bookbuild.read import PARSER, _LineState

    for text in ["", "a", "a\n", "  a\n\tb\n \t c\n\n   \n", "x\n  ", "\t\tq\n  \t x", "\n\n", " ", "é\n"]:
        ours, theirs = _LineState(text, PARSER, {}, []), StateBlock(text, PARSER, {}, [])
        for table in ("bMarks", "eMarks", "tShift", "sCount", "bsCount", "lineMax"):
            assert getattr(ours, table) == getattr(theirs, table), (text, table)


def test_a_bom_and_crlf_read_as_plain_text(settings, tmp_path):
    path = tmp_path / "chapter.md"
    path.write_bytes(b"\xef\xbb\xbf" + BILINGUAL.replace("\n", "\r\n").encode())
    with_bom = read_chapter(path, settings)
    plain = read(BILINGUAL, settings)
    def shown(chapter):
        return [myst_prose(b) if isinstance(b, Prose) else b.source for b in chapter.blocks]

    assert with_bom.diagnostics == [] and shown(with_bom) == shown(plain)
