"""The tutorial figures: the committed SVGs are what `notebooks/figures/make_figures.py` draws, they are
well-formed, self-contained SVG, and every figure a notebook shows exists next to it."""

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SCRIPT = NOTEBOOKS / "figures" / "make_figures.py"
FIGURE_FOLDERS = [Path("figures"), Path("zh") / "figures"]
SVG = "{http://www.w3.org/2000/svg}"

# `![alt](figures/x.svg)` and `<img src="figures/x.svg">`, with anything before `figures/` (to catch `/figures/...`).
MARKDOWN_IMAGE = re.compile(r"\]\(\s*([^)\s]*figures/[^)\s]*)")
HTML_IMAGE = re.compile(r"""<img\s[^>]*?src\s*=\s*["']([^"']*figures/[^"']*)["']""", re.IGNORECASE)


def committed_svgs() -> list[Path]:
    return sorted(path for folder in FIGURE_FOLDERS for path in (NOTEBOOKS / folder).glob("*.svg"))


def notebooks() -> list[Path]:
    return sorted([*NOTEBOOKS.glob("*.ipynb"), *(NOTEBOOKS / "zh").glob("*.ipynb")])


def figure_references(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    markdown = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    return MARKDOWN_IMAGE.findall(markdown) + HTML_IMAGE.findall(markdown)


def test_the_script_draws_exactly_the_committed_figures(tmp_path):
    subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], check=True, capture_output=True, timeout=60)
    drawn = sorted(path.relative_to(tmp_path) for folder in FIGURE_FOLDERS for path in (tmp_path / folder).glob("*"))
    committed = [path.relative_to(NOTEBOOKS) for path in committed_svgs()]
    assert drawn == committed, "the figure folders hold other files than the script draws: rerun it"
    for name in drawn:
        assert (tmp_path / name).read_bytes() == (NOTEBOOKS / name).read_bytes(), (
            f"{name} differs from what make_figures.py draws: run `python {SCRIPT.relative_to(NOTEBOOKS.parent)}`"
        )


def test_every_figure_comes_in_both_languages():
    english, chinese = ([path.name for path in (NOTEBOOKS / folder).glob("*.svg")] for folder in FIGURE_FOLDERS)
    assert sorted(english) == sorted(chinese)
    assert len(english) == 5


@pytest.mark.parametrize("svg", committed_svgs(), ids=lambda path: str(path.relative_to(NOTEBOOKS)))
def test_figure_is_self_contained_accessible_svg(svg):
    root = ET.parse(svg).getroot()
    assert root.tag == f"{SVG}svg"
    assert len(root.get("viewBox", "").split()) == 4
    assert root.get("width") and root.get("height")
    assert root.get("font-family") == "sans-serif"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text and title.text.strip()
    assert not list(root.iter(f"{SVG}script"))
    assert not list(root.iter(f"{SVG}image"))
    for element in root.iter():
        for name, value in element.attrib.items():
            if name.endswith("href"):
                assert value.startswith("#"), f"{svg.name} links outside itself: {value}"
        assert element.get("font-family") in (None, "sans-serif", "monospace"), "only generic font families"


@pytest.mark.parametrize("notebook", notebooks(), ids=lambda path: str(path.relative_to(NOTEBOOKS)))
def test_every_figure_a_notebook_shows_exists_next_to_it(notebook):
    for reference in figure_references(notebook):
        assert not reference.startswith("/") and "://" not in reference, f"absolute figure path: {reference}"
        assert (notebook.parent / reference).is_file(), f"{notebook.name} shows {reference}, which does not exist"
