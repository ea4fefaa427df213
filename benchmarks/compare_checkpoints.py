"""Two pipeline checkpoints on the same holes, under the one statistics rule: the campaign's checkpoint choice.

    python benchmarks/compare_checkpoints.py A.pt B.pt                    # the val photos, 2 holes per bucket
    python benchmarks/compare_checkpoints.py A.pt B.pt --photos val --size 256 --masks-per-bucket 2

Each file is an ``EdgeConnect`` pipeline (``EdgeConnect.save``) or a trainer checkpoint of stage ``edge-inpaint``
(it holds both generators). Both fill every hole of ``evaluate``'s fixed set three times: with G1's edges (``ours``,
the pipeline), with the photo's true Canny edges and with an empty edge map. Printed, per hole-size bucket: in-hole
PSNR, SSIM, L1 and edge F1 of each, then B - A for each edge choice with its paired bootstrap 95% interval and the
verdict ("better", "worse", "no clear difference"), then each one's true-edges gain over no edges (20-60% holes
pooled, issue 18's measure). It scores checkpoints already trained; run it on **val** to choose (never on test
or ``heldout``).
"""
from __future__ import annotations

import argparse

import torch

from edgeconnect_lib import evaluation as ev
from edgeconnect_lib.bootstrap import format_comparison
from edgeconnect_lib.pipeline import EdgeConnect

EDGES = {"ours": "predicted", "true": "true", "none": "none"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="checkpoint A (the reference)")
    parser.add_argument("b", help="checkpoint B (the candidate)")
    parser.add_argument("--photos", default="val", help="val (default), or a folder / glob / .flist")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--masks-per-bucket", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    photos = ev.photo_paths(args.photos)
    eval_set = ev.make_eval_set(photos, size=args.size, masks_per_bucket=args.masks_per_bucket, seed=args.seed)
    methods = {}
    for tag, path in (("A", args.a), ("B", args.b)):
        ec = EdgeConnect.load(path).eval()
        for name, edges in EDGES.items():
            methods[f"{tag}_{name}"] = ev.pipeline_method(ec, edges)
    print(f"A = {args.a}\nB = {args.b}\n{len(photos)} photos, {len(eval_set)} holes, {args.size} px\n")
    rows = ev.score_methods(methods, eval_set, edge_f1=True)
    print(ev.to_markdown(ev.summarize(rows)))
    print()
    print(ev.comparison_lines(rows, [(f"B_{name}", f"A_{name}") for name in EDGES], seed=args.seed))
    print()
    for tag in ("A", "B"):
        renamed = [{**r, "method": {f"{tag}_true": "ours_true_edges", f"{tag}_none": "ours_no_edges"}[r["method"]]}
                   for r in rows if r["method"] in (f"{tag}_true", f"{tag}_none")]
        gain = ev.true_edges_gain(renamed, seed=args.seed)
        print(f"{tag}: true edges - no edges, 20-60% holes pooled: {format_comparison(gain, 'dB', 2)}")


if __name__ == "__main__":
    main()
