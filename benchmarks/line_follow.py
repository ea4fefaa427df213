"""Does G2 follow a line the user draws through the hole? Issue 18's lesson-10 criterion, measured on many holes.

    python benchmarks/line_follow.py PIPELINE.pt [PIPELINE2.pt ...]     # the val photos, 4 holes per photo
    python benchmarks/line_follow.py PIPELINE.pt --photos FLIST --holes 4 --seed 0

For each photo (centre square, 256 px) and hole (a round-brush stroke of 45 px, as lesson 10 paints), one straight
1-px line is drawn across the hole at a random angle through its centre (``editor.EdgeEdit.draw_edge``: inside the
hole only; outside it G2 sees the known region's Canny edges). The pipeline fills the hole twice, with that line and
with an empty hole (``clear_edges``). **Coverage** = the share of the drawn line's pixels that lie within 2 px of a
Canny edge (sigma 2) of the fill (``metrics.line_coverage``): lesson 10's "followed" is coverage >= 0.5. The line's coverage by the fill made
*without* it is the control (a fill may have an edge there anyway), and the two are compared under the one
statistics rule (paired bootstrap over the holes). Lesson 10's own edit (the ladybird's stem, two lines) is the
first row.

Nothing here trains or chooses a checkpoint: the val photos only score pipelines already chosen.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from edgeconnect_lib.bootstrap import format_comparison, paired_bootstrap
from edgeconnect_lib.course_data import data_dir
from edgeconnect_lib.data import center_square
from edgeconnect_lib.editor import EdgeEdit
from edgeconnect_lib.metrics import line_coverage
from edgeconnect_lib.images import load_image
from edgeconnect_lib import evaluation as ev
from edgeconnect_lib.models import EdgeConnect

BRUSH = 45          # lesson 10's hole brush at 256 px


def line_scores(pipeline: EdgeConnect, photo: np.ndarray, hole: np.ndarray,
                lines: list[list[tuple[float, float]]]) -> tuple[float, float]:
    """Coverage of the drawn ``lines`` by the fill with them and by the fill of an empty hole."""
    edit = EdgeEdit(photo, hole, sigma=pipeline.sigma)
    for pts in lines:
        edit.draw_edge(pts)
    drawn = edit.hole_edges.copy()
    with_line = edit.inpaint(pipeline).image
    edit.clear_edges()
    without = edit.inpaint(pipeline).image
    return line_coverage(with_line, drawn, pipeline.sigma), line_coverage(without, drawn, pipeline.sigma)


def random_holes(photo: np.ndarray, n: int, rng: np.random.Generator):
    """``n`` (hole, line) pairs: a 3-point brush stroke and a line through its centre at a random angle."""
    size = photo.shape[0]
    for _ in range(n):
        c = rng.uniform(0.25, 0.75, size=2) * size
        step = rng.normal(0, 12, size=(2, 2))
        pts = [tuple(c - step[0]), tuple(c), tuple(c + step[1])]
        edit = EdgeEdit(photo)
        edit.paint_hole(pts, size=BRUSH)
        a = rng.uniform(0, np.pi)
        d = np.array([np.cos(a), np.sin(a)]) * size
        yield edit.mask.copy(), [[tuple(c - d), tuple(c + d)]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", help="pipeline files (EdgeConnect.load)")
    parser.add_argument("--photos", default="val",
                        help="val (default), test, heldout, or a folder / glob / .flist (as evaluate --photos)")
    parser.add_argument("--holes", type=int, default=4, help="holes per photo (default: 4)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    photos = ev.photo_paths(args.photos)
    ladybird = center_square(load_image(data_dir() / "images" / "mate_ladybird.jpg"), 256)
    lb = EdgeEdit(ladybird)
    lb.paint_hole([(202, 124), (214, 136), (222, 142)], size=BRUSH)
    stem = [[(180, 129), (240, 153)], [(183, 137), (235, 159)]]  # lesson 10's two outlines of the stem
    for path in args.checkpoints:
        pipeline = EdgeConnect.load(path, device="cpu", amp="off")
        lesson = line_scores(pipeline, ladybird, lb.mask, stem)
        rng = np.random.default_rng(args.seed)
        pairs = [line_scores(pipeline, photo, hole, lines)
                 for p in photos for photo in [center_square(load_image(p), 256)]
                 for hole, lines in random_holes(photo, args.holes, rng)]
        w, wo = np.array(pairs).T
        cmp = paired_bootstrap(w, wo)
        print(f"{path}")
        print(f"  lesson 10 (ladybird stem): coverage {lesson[0]:.2f} with the lines, {lesson[1]:.2f} without "
              f"({'followed' if lesson[0] >= 0.5 else 'NOT followed'}: >= 0.5 asked)")
        print(f"  {len(w)} holes on {args.photos}: mean coverage {w.mean():.2f} with the line, {wo.mean():.2f} "
              f"without; followed (>= 0.5) in {int((w >= 0.5).sum())} of {len(w)}; with - without: "
              f"{format_comparison(cmp)}")


if __name__ == "__main__":
    main()
