"""Solutions to the exercises of lesson 07 (run: python notebooks/solutions/07_edge_connect_pipeline_solutions.py [ITERATIONS] [SIZE]).

1. Stage 3 for longer (the lesson's exercise: ITERATIONS = 300 at 64 px): ``stage3`` is that run, from the course's
   edge.pt and inpaint.pt; main() runs it for ``iterations`` (a handful in the tests) and prints its test PSNR
   against the same G2 given the true edges (the upper bound). G_edge stays frozen: its weights are unchanged.
2. Your own edges: ``pipeline.inpaint(image, hole, edges=...)`` with G1's edges (None), the photo's true Canny
   edges, no edges at all, and a straight line drawn across the hole; in-hole PSNR of each.
3. Hole size: the course pipeline on the test photos with small holes (10-20%) and half-image holes.
4. A test photo at its stored size (about 512 x 341), compared with the same photo and hole inpainted through a
   64-pixel copy (``max_side=64``, known pixels kept at full resolution).
5. With a GPU: ``paper_run(folder, iterations, device="cuda")`` trains stages 1 and 2 at the paper's sizes into
   ``folder`` (then lesson 07 with ``CHECKPOINT_DIR=folder``); main() runs it for one step at 32 px on the CPU.

Written answer to the "why" question (exercise 4: what goes wrong at the stored size, and what it says about the
scale of the training crops). Less goes wrong than one would expect, and that is the answer: the course preset
trains on 128-pixel crops of 30-70% of a photo's short side, so a photo of short side ~340 px is seen at 0.5 to
1.3 times its stored scale, and the stored size lies inside the training scales. Measured on the first three test
photos with a 20-30% hole (course checkpoint, seed 0), the in-hole PSNR at full size (22.1, 21.0, 14.6 dB) is not
below that through a 64-pixel copy (19.0, 19.4, 13.0 dB): the small copy throws away detail that the bicubic
upscale cannot bring back. What does show the limit of the scale is G_1: in a hole hundreds of pixels wide it draws
almost no edges (0.0-0.3% of the hole on the first two photos), because a contour has to cross more pixels than
its receptive field spans. The first course model, trained on 64-pixel crops of 50-100% of the short side (lesson
08, section 7), failed exactly here: a model works at the scale of its training crops, and the crops must be cut
at the scale the model will be used at.
"""
from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import ConcatDataset

from edgeconnect_lib.config import get_config
from edgeconnect_lib.course_data import course_images, data_dir
from edgeconnect_lib.data import InpaintingDataset, center_square
from edgeconnect_lib.edges import canny_edges
from edgeconnect_lib.evaluation import score
from edgeconnect_lib.images import load_image, rgb_to_gray
from edgeconnect_lib.masks import irregular_mask
from edgeconnect_lib.models import EdgeConnect
from edgeconnect_lib.train import Trainer, evaluate, load_or_train

QUIET = dict(progress=False, val_every=10**9, sample_every=10**9, save_every=10**9, device="cpu")
COURSE = data_dir() / "checkpoints"


class WithTrueEdges(torch.nn.Module):
    """A G_inpaint alone: evaluate() then feeds it the sample's true Canny edges (as in lesson 07)."""

    def __init__(self, G_inpaint: torch.nn.Module) -> None:
        super().__init__()
        self.G_inpaint = G_inpaint


def test_samples(size: int, masks: int = 2, seed: int = 0, **kw):
    kw = {"mask_mode": "irregular", "hole_range": (0.1, 0.6)} | kw
    return ConcatDataset([InpaintingDataset(course_images("test"), size=size, train=False, sigma=2.0,
                                            seed=seed + 101 + k, **kw) for k in range(masks)])


def stage3(iterations: int, size: int, seed: int = 0):
    cfg = get_config("course", stage="edge-inpaint", iterations=iterations, image_size=size, seed=seed, **QUIET)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Trainer(cfg, "course", tempfile.mkdtemp(prefix="edgeconnect_07_solution_"),
                       edge_checkpoint=COURSE / "edge.pt", inpaint_checkpoint=COURSE / "inpaint.pt").fit()


def paper_run(folder: str | Path, iterations: int, device: str = "cuda", size: int = 256, batch_size: int = 8) -> Path:
    """Stages 1 and 2 at the paper's network sizes into ``folder`` (edge.pt, inpaint.pt), via load_or_train."""
    folder = Path(folder)
    for stage in ("edge", "inpaint"):
        cfg = get_config("paper", stage=stage, iterations=iterations, image_size=size, batch_size=batch_size,
                         device=device, progress=False, val_every=10**9, sample_every=10**9, save_every=10**9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the random-VGG19 fallback offline
            load_or_train(cfg, folder / f"{stage}.pt", device=device)
    return folder


def main(iterations: int = 300, size: int = 64, seed: int = 0) -> dict:
    torch.set_num_threads(1)
    tests = test_samples(size, seed=seed)
    pipeline = EdgeConnect.load(COURSE / "edgeconnect.pt", device="cpu")

    # exercise 1
    frozen_before = {k: v.clone() for k, v in load_or_train(get_config("cpu", stage="edge", **QUIET), COURSE / "edge.pt",
                                                            device="cpu").model.G_edge.state_dict().items()}
    run = stage3(iterations, size, seed)
    frozen = all(torch.equal(v, frozen_before[k]) for k, v in run.model.G_edge.state_dict().items())
    s3 = evaluate(run.model, tests, "edge-inpaint", device="cpu")
    s3_true = evaluate(WithTrueEdges(run.model.G_inpaint), tests, "inpaint", device="cpu")
    course = evaluate(pipeline, tests, "edge-inpaint", device="cpu")
    print(f"exercise 1: stage 3 for {run.iteration} it.: PSNR {s3['psnr']:.2f} dB, with true edges "
          f"{s3_true['psnr']:.2f} dB (gap {s3_true['psnr'] - s3['psnr']:+.2f}); course edgeconnect.pt {course['psnr']:.2f} dB;"
          f" G_edge unchanged: {frozen}")

    # exercise 2: own edges on one test photo
    image = center_square(load_image(course_images("test")[1]), size)
    hole = irregular_mask(size, size, (0.2, 0.3), np.random.default_rng(seed))
    line = np.zeros(hole.shape, np.float32)
    line[size // 2, :] = 1.0  # a horizontal line across the image
    choices = {"G1's edges": None, "true Canny edges": canny_edges(rgb_to_gray(image), 2.0).astype(np.float32),
               "no edges": np.zeros(hole.shape, np.float32), "a drawn line": line}
    own = {}
    for name, e in choices.items():
        result = pipeline.inpaint(image, hole, edges=e)
        uses_given = e is None or bool(np.array_equal(result.edges, e))
        own[name] = {"psnr": score(result.image, image, hole)["psnr"], "uses_given": uses_given,
                     "known_kept": float(np.abs(result.image - image)[~hole].max())}
    print("exercise 2: in-hole PSNR " + ", ".join(f"{k} {v['psnr']:.2f} dB" for k, v in own.items()))

    # exercise 3
    by_hole = {name: evaluate(pipeline, test_samples(size, seed=seed, **kw), "edge-inpaint", device="cpu")
               for name, kw in (("10-20%", {"hole_range": (0.1, 0.2)}), ("half", {"mask_mode": "half"}))}
    print("exercise 3: " + "; ".join(f"{k}: PSNR {v['psnr']:.2f} dB, SSIM {v['ssim']:.4f}, edge F1 {v['f1']:.3f}"
                                     for k, v in by_hole.items()))

    # exercise 4: the stored size against a 64-pixel copy
    photo = load_image(course_images("test")[1])
    big_hole = irregular_mask(*photo.shape[:2], (0.2, 0.3), np.random.default_rng(seed))
    full = pipeline.inpaint(photo, big_hole)
    small = pipeline.inpaint(photo, big_hole, max_side=64)
    stored = {"shape": photo.shape, "full": score(full.image, photo, big_hole)["psnr"],
              "via 64 px": score(small.image, photo, big_hole)["psnr"],
              "edge share full": float((full.edges > 0.5)[big_hole].mean()),
              "edge share 64 px": float((small.edges > 0.5)[big_hole].mean())}
    print(f"exercise 4: {photo.shape[1]} x {photo.shape[0]} photo: in-hole PSNR at full size {stored['full']:.2f} dB, "
          f"through a 64 px copy {stored['via 64 px']:.2f} dB; share of the hole drawn as edges "
          f"{stored['edge share full']:.3f} vs {stored['edge share 64 px']:.3f}")

    # exercise 5: the paper-size code path, one step at 32 px on the CPU
    folder = paper_run(tempfile.mkdtemp(prefix="edgeconnect_07_paper_"), 1, device="cpu", size=32, batch_size=1)
    paper_files = sorted(p.name for p in folder.glob("*.pt"))
    print(f"exercise 5: paper-size stages 1 and 2 written to {folder.name}: {paper_files}")
    return {"frozen": frozen, "stage3": s3, "stage3_true": s3_true, "course": course, "own": own,
            "by_hole": by_hole, "stored": stored, "paper_files": paper_files, "iterations": run.iteration}


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args) if args else main()
