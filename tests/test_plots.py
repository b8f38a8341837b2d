"""The book's plots: byte-stable images, labels and descriptions in the reader's language, and
nbval's rule for image outputs (the text part is compared, the PNG bytes are not)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from bookbuild import envs, execute, library, render_jupyter
from bookbuild.nbval_run import image_outputs

REPO = Path(__file__).resolve().parent.parent
CUSTOM_LAYER = "deep-learning-computation/custom-layer"


def png_chunks(data: bytes) -> list[str]:
    """The chunk types of a PNG file, in order."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, position = [], 8
    while position < len(data):
        length = int.from_bytes(data[position:position + 4], "big")
        chunks.append(data[position + 4:position + 8].decode("ascii"))
        position += 12 + length
    return chunks


def images(cells) -> list[dict]:
    return [output for cell in cells for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_a_rebuild_gives_the_same_notebook_plots_included(settings, framework):
    """The custom-layer notebook, run twice from scratch in its kernel, gives the same bytes: no
    date, no version, no random name in the image (the committed notebook came from such a run)."""
    committed = REPO / f"notebooks/pt/{framework}/{CUSTOM_LAYER}.ipynb"
    notebook = nbformat.read(committed, as_version=4)
    kernel = envs.ensure_kernel(settings.framework(framework))
    environment = library.kernel_environment(settings)
    runs = [execute.run(notebook, kernel, settings.timeout, env=environment).cells for _ in range(2)]
    assert [json.dumps(cell.outputs, sort_keys=True) for cell in runs[0]] == \
        [json.dumps(cell.outputs, sort_keys=True) for cell in runs[1]]
    [plot] = images(runs[0])
    assert plot.metadata == {"image/png": {"width": 450, "height": 300}, "language": "pt"}
    assert "".join(plot.data["text/plain"]) == "Perda a cada passo de treinamento, em escala log."
    assert set(png_chunks(base64.b64decode(plot.data["image/png"]))) <= {"IHDR", "pHYs", "IDAT", "IEND"}


def test_the_committed_plots_speak_the_language_of_their_notebook(settings):
    descriptions = {"en": "Loss at each training step, on a log scale.",
                    "pt": "Perda a cada passo de treinamento, em escala log."}
    found = 0
    for lang, description in descriptions.items():
        for framework in settings.framework_names:
            for name in (CUSTOM_LAYER, "deep-learning-computation/use-gpu"):
                cells = nbformat.read(REPO / f"notebooks/{lang}/{framework}/{name}.ipynb", as_version=4).cells
                for plot in images(cells):
                    assert "".join(plot.data["text/plain"]) == description
                    assert plot.metadata["language"] == lang
                    found += 1
    assert found == 2 * 3 * 2  # both languages, every framework, both sections


NOTEBOOK = """\
from IPython import display
display.display({'image/png': '%s', 'text/plain': '%s'}, raw=True)
"""


def nbval(tmp_path: Path, committed: tuple[str, str], rerun: tuple[str, str]) -> subprocess.CompletedProcess:
    """nbval, as the book runs it, on a one-cell notebook whose committed image output is
    ``committed`` (PNG data, text) and whose code now displays ``rerun``."""
    cell = nbformat.v4.new_code_cell(NOTEBOOK % rerun, execution_count=1, outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": committed[0], "text/plain": committed[1]})])
    notebook = nbformat.v4.new_notebook(cells=[cell], metadata={"kernelspec": {"name": "python3",
                                                                              "display_name": "Python 3"}})
    path = tmp_path / "plot.ipynb"
    nbformat.write(notebook, path)
    assert image_outputs(nbformat.read(path, as_version=4).cells) == 1
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval", "-q",
                           "--nbval-sanitize-with", str(REPO / "tests/nbval-sanitize.cfg"), str(path)],
                          cwd=tmp_path, capture_output=True, text=True, check=False)


def test_nbval_compares_the_text_of_an_image_output_not_its_bytes(tmp_path):
    red, blue = base64.b64encode(b"red pixels").decode(), base64.b64encode(b"blue pixels").decode()
    same_text = nbval(tmp_path, (red, "A loss curve."), (blue, "A loss curve."))
    assert same_text.returncode == 0, same_text.stdout
    other_text = nbval(tmp_path, (red, "A loss curve."), (red, "Uma curva de perda."))
    assert other_text.returncode != 0 and re.search(r"Uma curva de perda", other_text.stdout), other_text.stdout


def test_notebooks_that_import_the_library_name_it_in_their_setup_cell_only_for_colab(settings):
    use_gpu = nbformat.read(REPO / "notebooks/en/pytorch/deep-learning-computation/use-gpu.ipynb", as_version=4)
    assert render_jupyter.library_requirement(settings) in use_gpu.cells[0].source
