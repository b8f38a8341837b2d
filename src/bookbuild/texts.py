"""Every word the toolchain itself shows readers, in each language of the book.

The chapters carry their own prose; these are the few strings the build adds around it (notebook
notes, the HTML editions' controls, the front page). Keeping them in one table makes a missing
translation a failing test rather than an English string in the Portuguese edition.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "language_name": "English",
        "read_edition": "Read in English",
        "language_switch": "Language",
        "solution": "Solution",
        "run_title": "Run this page",
        "open_colab": "Open in Colab",
        "launch_binder": "Launch Binder",
        "download_notebook": "Download notebook",
        "colab_unavailable": "Colab cannot install {release} (its image has Python 3.13 and numpy 2): use Binder.",
        "colab_unavailable_notebook": (
            "**{framework} on Colab.** Colab's current image (Python 3.13, numpy 2) cannot install "
            "{release}, so this notebook does not run there. [Launch it in Binder]({binder}) "
            "instead, where {framework} has an environment of its own."),
        "footer": ('Text under <a href="https://creativecommons.org/licenses/by-sa/4.0/">CC BY-SA 4.0</a>, '
                   'code under the <a href="{license}">MIT license</a>.'),
        "search": "Search this book…",
        # Notices over a passage whose translation is not done (translation.py's states).
        "translation_missing": "This passage is not in English yet: it is shown in its original language.",
        "translation_draft": "Machine translation, not reviewed yet.",
        "translation_stale": "The original of this passage has changed since it was translated.",
        "translation_edit": "Edit the chapter",
        "translation_status": "Translation status",
        "contribute": "Contribute",
        "status_intro": ("How much of the book is translated, chapter by chapter, counted in words of the "
                         "original. Each gap links to its place in the source: that is where help is needed. "
                         "The numbers come from the chapters at the time this edition was built."),
        "status_chapter": "Chapter",
        "status_language": "Language",
        "status_done": "Done",
        "status_gaps": "Where help is needed",
        "status_complete": "Every passage of the book is translated and reviewed.",
        "status_framework_gaps": "Sections without code for a framework",
        "status_line": "line {line}",
        "status_words": "{words} words",
        "state_translated": "translated",
        "state_draft": "draft",
        "state_stale": "stale",
        "state_missing": "missing",
        # A :numref: in a notebook, worded as Sphinx words it in the HTML ("Section %s", "Fig. %s").
        "section_reference": "Section {number}",
        "figure_reference": "Fig. {number}",
        "table_reference": "Table {number}",
        # Citations, worded as the bibliography style words them: (Glorot and Bengio, 2010).
        "citation_and": "and",
        "citation_et_al": "et al.",
        "bibliography": "References",
        # A section with code, but none for one framework (a framework gap).
        "framework_gap": "This section has no {framework} code yet.",
        "framework_gap_notebook": "**This section has no {framework} code yet.** Its examples are in {others}.",
        # The setup cell's title: Colab shows it as a form, JupyterLab over the collapsed cell.
        "setup_title": "Setup: seeds and, on Colab, the pinned versions",
    },
    "pt": {
        "language_name": "Português (Brasil)",
        "read_edition": "Ler em português",
        "language_switch": "Idioma",
        "solution": "Solução",
        "run_title": "Execute esta página",
        "open_colab": "Abrir no Colab",
        "launch_binder": "Abrir no Binder",
        "download_notebook": "Baixar o notebook",
        "colab_unavailable": ("O Colab não consegue instalar o {release} (a imagem dele tem Python 3.13 e "
                              "numpy 2): use o Binder."),
        "colab_unavailable_notebook": (
            "**{framework} no Colab.** A imagem atual do Colab (Python 3.13, numpy 2) não consegue "
            "instalar o {release}, por isso este notebook não funciona lá. [Abra-o no Binder]({binder}), "
            "onde o {framework} tem um ambiente só dele."),
        "footer": ('Texto sob a licença <a href="https://creativecommons.org/licenses/by-sa/4.0/deed.pt-br">'
                   'CC BY-SA 4.0</a>, código sob a <a href="{license}">licença MIT</a>.'),
        "search": "Pesquisar neste livro…",
        "translation_missing": "Este trecho ainda não foi traduzido: segue o original em inglês.",
        "translation_draft": "Tradução automática, ainda não revisada.",
        "translation_stale": "O original deste trecho mudou depois da tradução: ela pode estar desatualizada.",
        "translation_edit": "Editar o capítulo",
        "translation_status": "Estado da tradução",
        "contribute": "Colabore",
        "status_intro": ("Quanto do livro já está traduzido, capítulo por capítulo, contado em palavras do "
                         "original. Cada lacuna leva ao seu lugar no código-fonte: é ali que a ajuda faz falta. "
                         "Os números vêm dos capítulos no momento em que esta edição foi gerada."),
        "status_chapter": "Capítulo",
        "status_language": "Idioma",
        "status_done": "Concluído",
        "status_gaps": "Onde falta ajuda",
        "status_complete": "Todos os trechos do livro estão traduzidos e revisados.",
        "status_framework_gaps": "Seções sem código para um framework",
        "status_line": "linha {line}",
        "status_words": "{words} palavras",
        "state_translated": "traduzido",
        "state_draft": "rascunho",
        "state_stale": "desatualizado",
        "state_missing": "faltando",
        "section_reference": "Seção {number}",
        "figure_reference": "Fig. {number}",
        "table_reference": "Tabela {number}",
        "citation_and": "e",
        "citation_et_al": "et al.",
        "bibliography": "Referências",
        "framework_gap": "Esta seção ainda não tem código {framework}.",
        "framework_gap_notebook": "**Esta seção ainda não tem código {framework}.** Os exemplos estão em {others}.",
        "setup_title": "Configuração: sementes e, no Colab, as versões fixadas",
    },
}


def text(lang: str, key: str, **values: str) -> str:
    """The string ``key`` in language ``lang``, with ``{name}`` fields filled in."""
    try:
        template = TEXTS[lang][key]
    except KeyError:
        known = ", ".join(sorted(TEXTS))
        raise KeyError(f"no text {key!r} for language {lang!r} in bookbuild/texts.py (languages: {known})") from None
    return template.format(**values) if values else template
