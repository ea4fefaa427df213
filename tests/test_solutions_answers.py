"""Lessons 07-10: the "why" exercises have written answers in their solutions' docstrings, and the lessons say where."""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = {"07_edge_connect_pipeline": "07_edge_connect_pipeline_solutions",
           "08_evaluation": "08_evaluation_solutions",
           "09_ablations": "09_ablations_solutions",
           "10_edge_editing": "10_edge_editing_solutions"}


@pytest.mark.parametrize("lesson, solutions", sorted(LESSONS.items()))
def test_why_exercises_have_written_answers(lesson, solutions):
    doc = ast.get_docstring(ast.parse((ROOT / "notebooks" / "solutions" / f"{solutions}.py").read_text()))
    assert "Written answer" in doc
    answers = doc.split("Written answer", 1)[1]
    assert len(answers.split()) > 60, "an answer in sentences, not a pointer"
    text = "\n".join(c.source for c in nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4).cells
                     if c.cell_type == "markdown")
    assert "written answers" in text and f"notebooks/solutions/{solutions}.py" in text


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_lesson_states_its_run_time_and_ends_with_a_summary(lesson):
    cells = nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4).cells
    assert "Run time with the default parameters:" in cells[0].source
    assert any("## Summary" in c.source for c in cells if c.cell_type == "markdown")
