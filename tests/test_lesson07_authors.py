"""Lesson 07, section 8: the authors' Places2 weights run through our pipeline when present, a labelled skip when not.

The cell is executed as the lesson runs it, in a namespace holding what the lesson's earlier cells define, with
random paper-size networks written in the authors' file layout (the real files are not on this machine) and one
test photo at 64 px so that it takes seconds.
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import nbformat
import pytest
import torch

from edgeconnect_lib import course_data
from edgeconnect_lib.bootstrap import compare_methods, format_comparison
from edgeconnect_lib import evaluation as ev
from edgeconnect_lib.checkpoints import save_authors_checkpoint
from edgeconnect_lib.config import get_config
from edgeconnect_lib.models import EdgeConnect
from edgeconnect_lib.networks import EdgeGenerator, InpaintGenerator
from edgeconnect_lib.weights import authors_dir

LESSON = Path(__file__).resolve().parents[1] / "notebooks" / "07_edge_connect_pipeline.ipynb"


def _authors_cell() -> str:
    cells = [c for c in nbformat.read(LESSON, as_version=4).cells if "authors" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "lesson 07 has one cell tagged 'authors'"
    return cells[0].source


def _run(folder: Path) -> str:
    torch.manual_seed(1)
    ours = EdgeConnect(EdgeGenerator(base_channels=8, residual_blocks=1),
                       InpaintGenerator(base_channels=8, residual_blocks=1), 2.0)
    namespace = dict(
        Path=Path, EdgeConnect=EdgeConnect, make_eval_set=ev.make_eval_set, build_methods=ev.build_methods,
        summarize=ev.summarize, score_methods=ev.evaluate, to_markdown=ev.to_markdown,
        compare_methods=compare_methods, format_comparison=format_comparison, authors_dir=authors_dir,
        course_images=lambda split: course_data.course_images(split)[:1], cfg3=get_config("course", stage="edge-inpaint"),
        device="cpu", course_ec=ours, AUTHORS_DIR=str(folder), AUTHORS_SIZE=64, SEED=0,
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_authors_cell(), str(LESSON), "exec"), namespace)
    return out.getvalue()


def test_lesson07_authors_section_skips_with_a_label_when_the_files_are_missing(tmp_path):
    text = _run(tmp_path)
    assert text.startswith("SKIPPED: the authors' Places2 weights are not here")
    assert "EdgeModel_gen.pth" in text and "download places2" in text


def test_lesson07_authors_section_scores_the_authors_networks_when_present(tmp_path):
    torch.manual_seed(0)
    save_authors_checkpoint(EdgeGenerator(), tmp_path)
    save_authors_checkpoint(InpaintGenerator(), tmp_path)
    text = _run(tmp_path)
    assert "5 test samples at 64 px" in text
    assert "authors_places2" in text and "| 10-20% |" in text
    assert "authors' Places2 model - telea, PSNR: " in text and "[95% CI" in text
    assert "authors' Places2 model - ours, SSIM: " in text


def _cells_with(text: str) -> str:
    cells = [c.source for c in nbformat.read(LESSON, as_version=4).cells if c.cell_type == "code"]
    i = next(k for k, src in enumerate(cells) if text in src)
    return cells[i] + "\n" + cells[i + 1]  # the table of section 5 and its verdicts


def test_lesson07_section5_scores_the_authors_model_with_weights_authors(tmp_path):
    from types import SimpleNamespace

    torch.manual_seed(0)
    save_authors_checkpoint(EdgeGenerator(), tmp_path)
    save_authors_checkpoint(InpaintGenerator(), tmp_path)
    tiny = EdgeConnect(EdgeGenerator(base_channels=8, residual_blocks=1),
                       InpaintGenerator(base_channels=8, residual_blocks=1), 2.0)
    namespace = dict(Path=Path, EdgeConnect=EdgeConnect, authors_dir=authors_dir, course_pipeline=tiny, pipeline_12=tiny,
                     course_images=lambda split: course_data.course_images(split)[:1], device="cpu", SEED=0,
                     cfg3=SimpleNamespace(image_size=64, sigma=2.0), WEIGHTS="authors", AUTHORS_DIR=str(tmp_path))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_cells_with('if WEIGHTS == "authors":'), str(LESSON), "exec"), namespace)
    text = out.getvalue()
    assert "10 test samples at 64 px, inside the hole (the authors' Places2 model)" in text
    assert "all: ours - Telea, PSNR" in text and "[95% CI" in text
    assert namespace["ours"] is not tiny and namespace["course_ec"] is tiny
    assert namespace["ours"].G_edge.state_dict()["encoder.1.weight_orig"].shape[0] == 64, "the paper's 64 channels"
