"""The lessons' exercise solutions run and give answers that make sense."""
from __future__ import annotations

import importlib.util
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lesson_08_solutions(capsys):
    answers = _load("08_evaluation_solutions").main(size=64)
    methods = {s["method"] for s in answers["summary"]}
    assert methods == {"ours", "telea", "telea_r10"}
    in_hole = {s["method"]: s["psnr"] for s in answers["summary"] if s["bucket"] == "all"}
    for name, whole in answers["whole"].items():
        assert whole > in_hole[name] + 3, "whole-image PSNR counts the exact known pixels, so it is far higher"
    assert set(answers["hardest"]) == methods and all(b.endswith("%") for b in answers["hardest"].values())
    assert "hardest bucket" in capsys.readouterr().out
