"""Issue 19's time budget: seconds per InGAN training iteration of the ``cpu`` preset, and the whole preset's
11,000 iterations projected from them, with the same preset in fp32 (the step before mixed precision) and the
official U-net skips as references in the same run.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/ingan_step.py [--threads 2] [--iterations 200]

The issue asks that the ``cpu`` preset train a photo in at most 45 minutes on 2 cores. Each variant trains on
the cups photo at the preset's 128 px with the scale range at its widest from the first iteration
(``curriculum_iterations=1``), so the timed iterations cost what the preset's later ones do (outputs up to 2x
the photo's side, some homographies); a warm-up is not timed. The preset is timed a second time at the start of
its curriculum (outputs near the photo's size), and its whole schedule is projected from the two, taking the
cost to grow linearly while the range widens (its first ``curriculum_iterations``). Nothing is written to disk.

The preset's ``amp="auto"`` runs bf16 autocast with NHWC memory on a CPU with native bf16 (fp32 elsewhere; the
first line says which); the fp32 row is ``amp="off"`` with the usual memory format.
"""
from __future__ import annotations

import argparse
import time

import torch

from edgeconnect_lib.course_data import data_dir
from edgeconnect_lib.ingan import InGANTrainer, get_ingan_config


def seconds_per_iteration(threads: int, iterations: int, warmup: int, widest: bool = True, **overrides) -> float:
    """Mean wall-clock seconds of one iteration (D step + G step) of the ``cpu`` preset with ``overrides``:
    at the widest scale range (``widest``), else at the start of the curriculum (outputs near the photo's size)."""
    torch.set_num_threads(threads)
    curriculum = 1 if widest else 10**9
    cfg = get_ingan_config("cpu", device="cpu", progress=False, curriculum_iterations=curriculum,
                           iterations=warmup + iterations, **overrides)
    trainer = InGANTrainer(cfg, data_dir() / "images" / "plasma_colorful_cups.jpg", verbose=False)
    trainer.fit(warmup)
    t0 = time.perf_counter()
    trainer.fit(warmup + iterations)
    return (time.perf_counter() - t0) / iterations


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    a = p.parse_args()
    preset = get_ingan_config("cpu")
    budget, ramp = preset.iterations, preset.curriculum_iterations
    print(f"InGAN cpu preset, 128 px cups, {a.threads} threads, {a.iterations} timed iterations "
          f"(after {a.warmup} untimed), torch {torch.__version__}")
    from edgeconnect_lib.precision import Precision

    print(f"  the cpu preset's precision here: {Precision(torch.device('cpu'), preset.amp).reason}")
    fp32 = seconds_per_iteration(a.threads, a.iterations, a.warmup, amp="off")
    skips = seconds_per_iteration(a.threads, a.iterations, a.warmup, amp="off", generator_skips=True)
    ours = seconds_per_iteration(a.threads, a.iterations, a.warmup)
    for label, s in (("with the official skips, fp32", skips), ("the cpu preset in fp32 (amp=off)", fp32),
                     ("the cpu preset (amp=auto)", ours)):
        print(f"  {label:38s} {s:.3f} s/iteration -> {budget:,} iterations in {s * budget / 60:.0f} min")
    print(f"  the cpu preset against its fp32 step: {fp32 / ours:.2f}x as fast; the skips cost "
          f"{skips / fp32:.2f}x the fp32 preset's time")
    start = seconds_per_iteration(a.threads, a.iterations, a.warmup, widest=False)
    whole = ramp * (start + ours) / 2 + (budget - ramp) * ours
    print(f"  the cpu preset at the start of its curriculum: {start:.3f} s/iteration; its whole schedule "
          f"({ramp:,} iterations widening, then {budget - ramp:,} at the widest) projected: {whole / 60:.0f} min")


if __name__ == "__main__":
    main()
