"""The lessons' checked outputs must not depend on the machine.

nbval compares every cell not marked ``# NBVAL_IGNORE_OUTPUT`` with the stored output of the default run. Numbers
that come out of training differ in their last digits across CPUs, BLAS kernels, thread counts and library
versions, so the training lessons print them in ignored cells and check *verdicts* (with thresholds the default run
clears with margin) in checked cells. This test simulates another machine: it reruns a training lesson with a
different number of torch threads (another summation order in every convolution, as on another CPU) and asserts
that every checked output is still the stored one.
"""
from __future__ import annotations

import configparser
import re
from pathlib import Path

import nbformat
import pytest

from edgeconnect_lib.course import run_course

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
MARKERS = ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP", "NBVAL_CHECK_OUTPUT", "NBVAL_RAISES_EXCEPTION")


def _sanitizers() -> list[tuple[re.Pattern, str]]:
    cfg = configparser.ConfigParser()
    cfg.read(SANITIZE)
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def _is_ignored(cell) -> bool:
    first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
    tags = cell.metadata.get("tags", [])
    return first in ("# NBVAL_IGNORE_OUTPUT", "# NBVAL_SKIP") or "nbval-ignore-output" in tags or "nbval-skip" in tags


def checked_outputs(nb) -> list[tuple[str, str]]:
    """(first source line, sanitised text output) of every checked code cell, in order (papermill's injected
    parameters cell left out)."""
    subs = _sanitizers()
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "injected-parameters" in cell.metadata.get("tags", []) or _is_ignored(cell):
            continue
        text = ""
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                text += o.text
            elif "data" in o and "text/plain" in o.data and "image/png" not in o.data:
                text += o.data["text/plain"]
        for pattern, repl in subs:
            text = pattern.sub(repl, text)
        out.append((cell.source.splitlines()[0] if cell.source else "", text))
    return out


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_nbval_markers_are_exact(path: Path):
    """nbval only honours a marker alone on its line: '# NBVAL_IGNORE_OUTPUT  (why)' is silently NOT ignored."""
    nb = nbformat.read(path, as_version=4)
    bad = [(i, line) for i, c in enumerate(nb.cells) if c.cell_type == "code" for line in c.source.splitlines()
           if "NBVAL_" in line and line.strip() not in {f"# {m}" for m in MARKERS}]
    assert not bad, f"{path.name}: put the marker alone on its line (explanations on the next line): {bad}"


def test_checked_outputs_compare_what_nbval_compares():
    """The helper sees a changed number in a checked cell, and ignores it in an ignored one."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", name="stdout", text="1 in 0.5 s\n")]),
        nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\nprint(2)",
                                  outputs=[nbformat.v4.new_output("stream", name="stdout", text="2\n")]),
    ])
    assert checked_outputs(nb) == [("print(1)", "1 in DURATION\n")]
    nb.cells[0].outputs[0].text = "7 in 0.5 s\n"
    assert checked_outputs(nb) != [("print(1)", "1 in DURATION\n")]


@pytest.mark.parametrize("lesson", ["06_train_inpaint_model"])
def test_training_lesson_verdicts_do_not_depend_on_the_thread_count(tmp_path: Path, lesson: str):
    stored = nbformat.read(NOTEBOOKS / f"{lesson}.ipynb", as_version=4)
    threads = [c for c in stored.cells if "parameters" in c.metadata.get("tags", [])][0].source
    default = int(re.search(r"^THREADS: int = (\d+)", threads, re.M).group(1))
    runs = run_course(tmp_path, NOTEBOOKS, parameters={"THREADS": default + 1}, only=[lesson[:2]])
    assert runs[0].ok, runs[0].error
    rerun = nbformat.read(tmp_path / f"{lesson}.ipynb", as_version=4)
    want, got = checked_outputs(stored), checked_outputs(rerun)
    assert len(want) == len(got)
    diffs = [(w[0], w[1], g[1]) for w, g in zip(want, got) if w != g]
    assert not diffs, f"checked outputs changed with THREADS={default + 1}: {diffs}"
