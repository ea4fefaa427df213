"""Solutions to the exercises of lesson 05 (run: python notebooks/solutions/05_train_edge_model_solutions.py [ITERATIONS] [SIZE]).

1. A longer run (the lesson's exercise: ITERATIONS = 600 at 64 px, a few minutes): ``train_edge`` is that run;
   main() calls it with ``iterations`` (a handful in the tests) and compares it, on the same validation samples,
   with the untrained network and the course checkpoint ``data/checkpoints/edge.pt``.
2. The threshold of edge_precision_recall for the course checkpoint: on the samples whose hole has true edges,
   recall can only fall as the threshold rises (the mean over all samples need not: a hole without edges scores
   recall 1 once nothing is predicted in it); the F1-best threshold is printed.
3. A one-pixel tolerance (max_pool2d of the true / predicted edges): precision and recall can only go up; an
   edge drawn one pixel off is a miss for the exact score.
4. gan = "nsgan" / "lsgan" / "hinge": their discriminator losses start from different values at chance
   (ln 2, 1/2 and 1 for logits near 0), so the curves are not comparable in height, only in trend.
5. d2g_lr = 1.0: the discriminator learns as fast as the generator; its loss and the feature-matching term,
   printed for the same short run with d2g_lr 0.1 and 1.0.
"""
from __future__ import annotations

import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import ConcatDataset

from edgeconnect_lib.config import get_config
from edgeconnect_lib.course_data import course_images, data_dir
from edgeconnect_lib.data import InpaintingDataset
from edgeconnect_lib.metrics import edge_precision_recall
from edgeconnect_lib.models import mask_edge_input
from edgeconnect_lib.train import Trainer, evaluate, load_or_train

QUIET = dict(progress=False, val_every=10**9, sample_every=10**9, save_every=10**9, device="cpu")


def train_edge(iterations: int, size: int, seed: int = 0, log_every: int = 10, **overrides):
    """Stage 1 with the cpu preset, as lesson 05 runs it; returns the trainer's result (model, history)."""
    cfg = get_config("cpu", stage="edge", iterations=iterations, image_size=size, seed=seed, log_every=log_every,
                     **(QUIET | overrides))
    trainer = Trainer(cfg, "course", tempfile.mkdtemp(prefix="edgeconnect_05_solution_"))
    return trainer, trainer.fit()


def val_samples(size: int, masks: int = 4, seed: int = 0):
    return ConcatDataset([InpaintingDataset(course_images("val"), size=size, train=False, sigma=2.0,
                                            mask_mode="irregular", hole_range=(0.1, 0.6), seed=seed + 1 + k)
                          for k in range(masks)])


def main(iterations: int = 600, size: int = 64, seed: int = 0) -> dict:
    torch.set_num_threads(1)
    val = val_samples(size, seed=seed)

    # exercise 1
    cfg = get_config("cpu", stage="edge", iterations=iterations, image_size=size, seed=seed, **QUIET)
    trainer = Trainer(cfg, "course", tempfile.mkdtemp(prefix="edgeconnect_05_solution_"))
    before = evaluate(trainer.model, val, "edge", device="cpu")
    result = trainer.fit()
    after = evaluate(trainer.model, val, "edge", device="cpu")
    course = load_or_train(cfg, data_dir() / "checkpoints" / "edge.pt", device="cpu").model
    course_scores = evaluate(course, val, "edge", device="cpu")
    for name, s in (("untrained", before), (f"{iterations} it.", after), ("course edge.pt", course_scores)):
        print(f"exercise 1: {name:15s} " + ", ".join(f"{k} {v:.3f}" for k, v in s.items()))

    # exercises 2 and 3 on the course checkpoint
    images, gray, edges, masks = (torch.stack(t) for t in zip(*[val[i] for i in range(len(val))]))
    course.eval()
    with torch.no_grad():
        pred = course.G_edge(mask_edge_input(gray, edges, masks))
    thresholds = [round(t, 1) for t in np.arange(0.1, 0.91, 0.1)]
    sweep = {t: edge_precision_recall(pred, edges, masks, threshold=t) for t in thresholds}
    sweep = {t: {"precision": float(s.precision), "recall": float(s.recall), "f1": float(s.f1)} for t, s in sweep.items()}
    # an image whose hole holds no true edge scores recall 1 once nothing is predicted there (edge_precision_recall's
    # convention), so the mean recall can rise with the threshold; over the images with true edges it cannot
    has_edges = (edges * masks).sum(dim=(1, 2, 3)) > 0
    recall_with_edges = {t: float(edge_precision_recall(pred, edges, masks, threshold=t, reduction="none").recall[has_edges]
                                  .mean()) for t in thresholds}
    best = max(sweep, key=lambda t: sweep[t]["f1"])
    print("exercise 2: " + "; ".join(f"t {t}: P {s['precision']:.3f} R {s['recall']:.3f} F1 {s['f1']:.3f}"
                                     for t, s in sweep.items()) + f" -> best F1 at {best}")
    print(f"exercise 2: recall over the {int(has_edges.sum())} samples whose hole has true edges: "
          + ", ".join(f"t {t} {v:.3f}" for t, v in recall_with_edges.items()) + " (falls as the threshold rises)")
    binary = (pred > 0.5).float()
    grow = lambda x: F.max_pool2d(x, 3, stride=1, padding=1)  # noqa: E731  a 1-pixel tolerance
    tp_p = (binary * grow(edges) * masks).sum(dim=(1, 2, 3))  # predicted pixels with a true edge within 1 px
    tp_r = (edges * grow(binary) * masks).sum(dim=(1, 2, 3))  # true pixels with a prediction within 1 px
    n_pred, n_true = (binary * masks).sum(dim=(1, 2, 3)), (edges * masks).sum(dim=(1, 2, 3))
    tolerant = {"precision": float((tp_p / n_pred.clamp(min=1)).mean()), "recall": float((tp_r / n_true.clamp(min=1)).mean())}
    exact = sweep[0.5]
    print(f"exercise 3: exact P {exact['precision']:.3f} R {exact['recall']:.3f}; within 1 px P "
          f"{tolerant['precision']:.3f} R {tolerant['recall']:.3f}")

    # exercise 4: the three adversarial forms, the same short run
    first_loss_D, last_loss_D = {}, {}
    for gan in ("nsgan", "lsgan", "hinge"):
        _, r = train_edge(max(2, iterations // 10), size, seed, log_every=1, gan=gan)
        first_loss_D[gan], last_loss_D[gan] = r.history[0]["loss_D"], r.history[-1]["loss_D"]
    print("exercise 4: loss_D at the first / last iteration: "
          + ", ".join(f"{g} {first_loss_D[g]:.3f} / {last_loss_D[g]:.3f}" for g in first_loss_D))

    # exercise 5: d2g_lr 0.1 (the paper) vs 1.0
    d2g = {}
    for ratio in (0.1, 1.0):
        _, r = train_edge(max(2, iterations // 10), size, seed, log_every=1, d2g_lr=ratio)
        half = r.history[len(r.history) // 2:]
        d2g[ratio] = {"loss_D": float(np.mean([h["loss_D"] for h in half])),
                      "loss_G_fm": float(np.mean([h["loss_G_fm"] for h in half]))}
    print("exercise 5: second half of the run: " + ", ".join(
        f"d2g_lr {k}: loss_D {v['loss_D']:.3f}, loss_G_fm {v['loss_G_fm']:.3f}" for k, v in d2g.items())
          + f" (ln 2 = {np.log(2):.3f})")
    return {"before": before, "after": after, "course": course_scores, "iterations": result.iteration,
            "sweep": sweep, "recall_with_edges": recall_with_edges, "best_threshold": best, "tolerant": tolerant, "first_loss_D": first_loss_D,
            "last_loss_D": last_loss_D, "d2g": d2g}


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args) if args else main()
