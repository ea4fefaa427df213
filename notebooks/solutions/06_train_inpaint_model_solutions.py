"""Solutions to the exercises of lesson 06 (run: python notebooks/solutions/06_train_inpaint_model_solutions.py [ITERATIONS] [SIZE]).

1. Perceptual and style losses on (perceptual=0.1, style=250): the same short run with and without; the time per
   step (VGG19 runs on outputs and targets) and the validation PSNR.
2. A longer run (the lesson's exercise: ITERATIONS = 600 at 64 px): ``train_inpaint`` is that run; main() calls it
   with ``iterations`` (a handful in the tests) and compares it with the untrained network and the course
   checkpoint ``data/checkpoints/inpaint.pt`` on the same validation samples.
3. The edges' worth: the course checkpoint's G2 with an all-zero edge map (``edge_mode="none"``) against the true
   edges, same samples (the paper's edges / no-edges ablation).
4. Half-image holes: 50% of the image is invented, against 10-60% irregular holes whose many borders give G2
   known pixels close to every hole pixel; the scores are over the whole image, so they fall.
5. The paper preset: ``train_inpaint(..., preset="paper", device="cuda")`` with PAPER_ITERATIONS in the
   thousands on a GPU; main() runs the same code path for ``max(1, iterations // 10)`` steps at 32 px on the CPU.
"""
from __future__ import annotations

import sys
import tempfile
import warnings

import torch
from torch.utils.data import ConcatDataset

from edgeconnect_lib.config import get_config
from edgeconnect_lib.course_data import course_images, data_dir
from edgeconnect_lib.data import InpaintingDataset
from edgeconnect_lib.train import Trainer, evaluate, load_or_train

QUIET = dict(progress=False, val_every=10**9, sample_every=10**9, save_every=10**9)


def train_inpaint(iterations: int, size: int, seed: int = 0, preset: str = "cpu", device: str = "cpu", **overrides):
    """Stage 2 as lesson 06 runs it; returns (trainer, result)."""
    cfg = get_config(preset, stage="inpaint", iterations=iterations, image_size=size, seed=seed, device=device,
                     **(QUIET | overrides))
    trainer = Trainer(cfg, "course", tempfile.mkdtemp(prefix="edgeconnect_06_solution_"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the random-VGG19 fallback warning, when the VGG terms are on
        return trainer, trainer.fit()


def val_samples(size: int, masks: int = 4, seed: int = 0, **kw):
    kw = {"mask_mode": "irregular", "hole_range": (0.1, 0.6)} | kw
    return ConcatDataset([InpaintingDataset(course_images("val"), size=size, train=False, sigma=2.0, seed=seed + 1 + k,
                                            **kw) for k in range(masks)])


def main(iterations: int = 600, size: int = 64, seed: int = 0) -> dict:
    torch.set_num_threads(1)
    val = val_samples(size, seed=seed)

    # exercise 1
    runs = {}
    for name, extra in (("l1 + adv", {}), ("+ perceptual + style", {"perceptual": 0.1, "style": 250.0})):
        trainer, r = train_inpaint(max(2, iterations // 10), size, seed, **extra)
        runs[name] = {"seconds_per_step": r.seconds / max(r.iteration, 1),
                      "psnr": evaluate(trainer.model, val, "inpaint", device="cpu")["psnr"]}
    slower = runs["+ perceptual + style"]["seconds_per_step"] / runs["l1 + adv"]["seconds_per_step"]
    print("exercise 1: " + ", ".join(f"{k}: {v['seconds_per_step']:.2f} s/step, PSNR {v['psnr']:.2f} dB"
                                     for k, v in runs.items()) + f" -> x{slower:.1f} per step")

    # exercise 2
    cfg = get_config("cpu", stage="inpaint", iterations=iterations, image_size=size, seed=seed, device="cpu", **QUIET)
    trainer = Trainer(cfg, "course", tempfile.mkdtemp(prefix="edgeconnect_06_solution_"))
    before = evaluate(trainer.model, val, "inpaint", device="cpu")
    trainer.fit()
    after = evaluate(trainer.model, val, "inpaint", device="cpu")
    course = load_or_train(cfg, data_dir() / "checkpoints" / "inpaint.pt", device="cpu").model
    course_scores = evaluate(course, val, "inpaint", device="cpu")
    for name, s in (("untrained", before), (f"{iterations} it.", after), ("course inpaint.pt", course_scores)):
        print(f"exercise 2: {name:17s} " + ", ".join(f"{k} {v:.4f}" for k, v in s.items()))

    # exercise 3: the course G2 without edges
    no_edges = evaluate(course, val_samples(size, seed=seed, edge_mode="none"), "inpaint", device="cpu")
    edge_gain = {k: course_scores[k] - no_edges[k] for k in ("psnr", "ssim")}
    print(f"exercise 3: without edges PSNR {no_edges['psnr']:.2f} dB, SSIM {no_edges['ssim']:.4f}; the true edges add "
          f"{edge_gain['psnr']:+.2f} dB and {edge_gain['ssim']:+.4f} SSIM")

    # exercise 4: half-image holes
    half = evaluate(course, val_samples(size, seed=seed, mask_mode="half"), "inpaint", device="cpu")
    print(f"exercise 4: half-image holes PSNR {half['psnr']:.2f} dB, SSIM {half['ssim']:.4f} vs irregular 10-60% "
          f"{course_scores['psnr']:.2f} dB, {course_scores['ssim']:.4f}")

    # exercise 5: the paper preset's code path, a few steps at 32 px on this machine's CPU
    paper_trainer, paper = train_inpaint(max(1, iterations // 10), 32, seed, preset="paper", batch_size=1)
    paper_params = sum(p.numel() for p in paper_trainer.model.G_inpaint.parameters())
    print(f"exercise 5: paper preset, {paper.iteration} steps at 32 px: G_inpaint {paper_params:,} parameters, last "
          f"loss_G {paper.history[-1]['loss_G']:.3f} (perceptual {paper.history[-1]['loss_G_perc']:.3f}, style "
          f"{paper.history[-1]['loss_G_style']:.3f}); on a GPU: preset='paper', device='cuda', size 256")
    return {"runs": runs, "slower": slower, "before": before, "after": after, "course": course_scores,
            "no_edges": no_edges, "edge_gain": edge_gain, "half": half, "paper_params": paper_params,
            "paper_last": paper.history[-1]}


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args) if args else main()
