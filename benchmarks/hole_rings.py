"""Where in the hole a pipeline wins or loses against the classical fills: in-hole PSNR per ring of distance
from the hole's edge (``evaluation.distance_profile``), on the val photos at 256 px, the holes of ``evaluate``.

    python benchmarks/hole_rings.py PIPELINE.pt                  # the val photos, 2 holes per bucket (60)
    python benchmarks/hole_rings.py PIPELINE.pt --photos heldout --masks-per-bucket 1

Prints one row per method: PSNR in the rings 1-2, 3-4, 5-8, 9-16 and 17+ px from the nearest known pixel, and
over the whole hole. Issue 18's diagnosis (stop 30, ``data/README.md``): the campaign's G2 lost to Telea by 4 dB in
the first two pixels (19.1 against 23.2 dB) and matched it beyond 9 px, which led to ``prefill``.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from edgeconnect_lib import evaluation as ev
from edgeconnect_lib.models import EdgeConnect

METHODS = ("ours", "ours_no_edges", "ours_true_edges", "telea", "ns", "pullpush")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="a pipeline file (EdgeConnect.save)")
    parser.add_argument("--photos", default="val",
                        help="val (default), test, heldout, or a folder / glob / .flist (as evaluate --photos)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--masks-per-bucket", type=int, default=2)
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    photos = ev.photo_paths(args.photos)
    items = ev.make_eval_set(photos, size=args.size, masks_per_bucket=args.masks_per_bucket)
    ec = EdgeConnect.load(args.checkpoint, device="cpu", amp="off")
    outputs: dict[str, list[np.ndarray]] = {}
    rows = ev.score_methods(ev.build_methods(args.methods.split(","), ec), items, outputs=outputs)
    profile = ev.distance_profile(outputs, items)
    rings = list(dict.fromkeys(r["ring"] for r in profile))
    print(f"{len(items)} holes, {args.size} px, {args.photos}; in-hole PSNR (dB) by distance from the hole's edge")
    print("| method | " + " | ".join(rings) + " | whole hole |")
    print("|---|" + "---|" * (len(rings) + 1))
    for name in outputs:
        by_ring = {r["ring"]: r["psnr"] for r in profile if r["method"] == name}
        mean = np.mean([r["psnr"] for r in rows if r["method"] == name])
        print(f"| {name} | " + " | ".join(f"{by_ring.get(k, float('nan')):.2f}" for k in rings) + f" | {mean:.2f} |")


if __name__ == "__main__":
    main()
