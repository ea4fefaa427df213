"""Lessons 08-10 with ``WEIGHTS="authors"``: the paper's networks run through the same cells.

The authors' Places2 files are not on this machine, so random paper-size networks are written in the authors' file
layout (``save_authors_checkpoint``) and passed as ``AUTHORS_DIR``; each lesson then runs end to end with papermill at
a small size. The stored outputs stay the course model's: the committed parameters say ``WEIGHTS = "course"``.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import torch

from edgeconnect_lib.checkpoints import save_authors_checkpoint
from edgeconnect_lib.networks import EdgeGenerator, InpaintGenerator

papermill = pytest.importorskip("papermill")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = {
    "08_evaluation": dict(SIZE=64, MASKS_PER_BUCKET=1),
    "09_ablations": dict(SIZE=32, MASKS_PER_BUCKET=1, SIGMAS=[1.0, 2.0, 3.0]),
    "10_edge_editing": dict(SIZE=64),
}


@pytest.fixture(scope="module")
def authors_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("authors_places2")
    torch.manual_seed(0)
    save_authors_checkpoint(EdgeGenerator(), folder)  # the paper's sizes: 64 channels, 8 residual blocks
    save_authors_checkpoint(InpaintGenerator(), folder)
    return folder


def _text(nb) -> str:
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                     if o.get("output_type") == "stream")


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_lesson_defaults_to_the_course_weights(lesson):
    nb = nbformat.read(NOTEBOOKS / f"{lesson}.ipynb", as_version=4)
    params = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert 'WEIGHTS: str = "course"' in params and 'AUTHORS_DIR: str = ""' in params


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_lesson_runs_with_the_authors_weights(lesson, authors_folder, tmp_path):
    out = tmp_path / f"{lesson}.ipynb"
    papermill.execute_notebook(str(NOTEBOOKS / f"{lesson}.ipynb"), str(out), kernel_name="python3",
                               cwd=str(NOTEBOOKS), progress_bar=False, execution_timeout=600,
                               parameters=dict(WEIGHTS="authors", AUTHORS_DIR=str(authors_folder), **LESSONS[lesson]))
    text = _text(nbformat.read(out, as_version=4))
    assert "Traceback" not in text
    if lesson == "08_evaluation":
        assert "evaluating the authors' Places2 networks at 64 px" in text
        assert "command line exit code: 0" in text and "[95% CI" in text
    elif lesson == "09_ablations":
        assert "ablations of the authors' Places2 networks at 32 px" in text and "[95% CI" in text
    else:
        assert "with the authors' Places2 networks" in text
        assert "command line exit code: 0" in text


def test_a_missing_authors_folder_is_one_clear_error(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError, match="EdgeModel_gen.pth"):
        papermill.execute_notebook(str(NOTEBOOKS / "09_ablations.ipynb"), str(tmp_path / "out.ipynb"),
                                   kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False,
                                   parameters=dict(WEIGHTS="authors", AUTHORS_DIR=str(tmp_path / "empty"), SIZE=32))
