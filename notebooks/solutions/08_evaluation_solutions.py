"""Solutions to the exercises of lesson 08 (run: python notebooks/solutions/08_evaluation_solutions.py [SIZE]).

1. A larger Telea radius: a method is any function (image, mask) -> composite.
2. Whole-image vs in-hole PSNR: the same composites, scored over all pixels.
3. The hardest bucket for each method: the lowest in-hole PSNR.
"""
from __future__ import annotations

import sys

import numpy as np

from edgeconnect_lib.course_data import course_images, data_dir
from edgeconnect_lib.evaluation import build_methods, evaluate, make_eval_set, summarize, telea, to_markdown
from edgeconnect_lib.models import EdgeConnect


def main(size: int = 256) -> dict:
    eval_set = make_eval_set(course_images("test"), size=size, masks_per_bucket=1)
    methods = build_methods(["ours", "telea"], ec=EdgeConnect.load(data_dir() / "checkpoints" / "edgeconnect.pt"))
    methods["telea_r10"] = lambda image, mask: telea(image, mask, radius=10.0)  # exercise 1
    outputs: dict = {}
    summary = summarize(evaluate(methods, eval_set, outputs=outputs))
    print(to_markdown(summary, metrics=("psnr",)))
    # exercise 2: PSNR over the whole image (known pixels are exact, so it is the in-hole MSE times the hole ratio)
    whole = {name: float(np.mean([10 * np.log10(1 / max(np.mean((out - item.image) ** 2), 1e-12))
                                  for out, item in zip(outs, eval_set)])) for name, outs in outputs.items()}
    print("whole-image PSNR:", ", ".join(f"{k} {v:.2f} dB" for k, v in whole.items()))
    # exercise 3: the hardest bucket per method
    hardest = {}
    for name in methods:
        rows = [s for s in summary if s["method"] == name and s["bucket"] != "all"]
        hardest[name] = min(rows, key=lambda s: s["psnr"])["bucket"]
    print("hardest bucket:", hardest)
    return {"summary": summary, "whole": whole, "hardest": hardest}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 256)
