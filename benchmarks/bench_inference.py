"""Inpainting throughput at 256 px: our EdgeConnect pipeline against OpenCV's Telea and Navier-Stokes.

Run from the repository root (about a minute on 2 CPU cores):

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_inference.py
    .venv/bin/python benchmarks/bench_inference.py --reps 9 --threads 2 --device cuda

The inputs are the evaluation set of ``edgeconnect_lib.evaluation`` (the course test photos, centre
squares at ``--size``, one irregular hole per hole-ratio bucket 10-20% ... 50-60%). Each method is timed
on all of them in alternating rounds (ours, Telea, NS, ours, ...), so every method sees the same machine
load. A row gives the median time of a round per image, the images per second and the ratio to our
pipeline's throughput measured in that same run. "ours" is ``EdgeConnect.inpaint`` on one image at a
time, end to end as the CLI runs it: Canny of the known region, G_edge, G_inpaint, composite, twice:

* **ours, eager fp32**: the pipeline as it ran before the speed work (and as the lessons run it, ``amp="off"``);
* **ours, optimised**: what ``inpaint`` / ``evaluate`` run by default, ``--amp auto``: bf16 autocast on a CPU with
  native bf16 (AVX512-BF16 / AMX) or on CUDA, fp32 elsewhere (then the two rows are the same computation).

Where the time goes (profile of the eager pipeline, one thread, 256 px, the course checkpoint of 3.04 M
parameters, 2-core AMD EPYC Zen 4): convolutions 84%, instance normalisation 10%, reflection padding, copies and
Canny the rest. The convolutions run near the CPU's peak already (about 210 GFLOP/s fp32 and 430 GFLOP/s bf16 per
two cores, measured on G's 256-channel 3x3 convolutions), so bf16 autocast, which halves their cost, is the one
large gain; channels-last was slower on this CPU (oneDNN's blocked layout is already used), and
``torch.compile`` only fuses the small element-wise share.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch

from edgeconnect_lib.course_data import course_images
from edgeconnect_lib.evaluation import EvalItem, make_eval_set, ns, pipeline_method, telea
from edgeconnect_lib.models import EdgeConnect


def round_seconds(method: Callable[[np.ndarray, np.ndarray], np.ndarray], items: list[EvalItem],
                  sync: Callable[[], None]) -> float:
    """Seconds to inpaint every item once."""
    start = time.perf_counter()
    for item in items:
        method(item.image, item.mask)
    sync()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("data/checkpoints/edgeconnect.pt"),
                        help="EdgeConnect checkpoint (default: the course's)")
    parser.add_argument("--size", type=int, default=256, help="image side in pixels (default: 256)")
    parser.add_argument("--reps", type=int, default=5, help="timed rounds per method (median reported)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch.set_num_threads and cv2.setNumThreads (default: 1)")
    parser.add_argument("--device", default="cpu", help="torch device of our pipeline (default: cpu)")
    parser.add_argument("--amp", default="auto", choices=("auto", "bf16", "fp16", "off"),
                        help="precision of the optimised row (default: auto, as the CLI)")
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be >= 1")
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    if not args.checkpoint.exists():
        parser.error(f"--checkpoint {args.checkpoint}: no such file")
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    device = torch.device(args.device)

    items = make_eval_set(course_images("test"), size=args.size, masks_per_bucket=1)
    eager = EdgeConnect.load(args.checkpoint, device=device, amp="off")
    fast = EdgeConnect.load(args.checkpoint, device=device, amp=args.amp)
    n_params = sum(p.numel() for p in eager.parameters())
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    ours = "ours, eager fp32"
    methods = {ours: pipeline_method(eager, "predicted"),
               f"ours, {fast.precision.reason.split(' (')[0]} (--amp {args.amp})": pipeline_method(fast, "predicted"),
               "Telea (cv2)": telea, "NS (cv2)": ns}

    print(f"inpainting {len(items)} images of {args.size} x {args.size} (course test photos x 5 hole buckets), "
          f"{args.reps} rounds; torch {torch.__version__} ({torch.get_num_threads()} threads, {device}), "
          f"OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads), {platform.processor() or platform.machine()}; "
          f"checkpoint {args.checkpoint} ({n_params / 1e6:.2f} M generator parameters); optimised: "
          f"{fast.precision.reason}")
    for method in methods.values():  # warm up (allocations, lazy initialisation)
        round_seconds(method, items[:2], sync)
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.reps):  # interleaved rounds
        for name, method in methods.items():
            times[name].append(round_seconds(method, items, sync))

    per_image = {name: statistics.median(t) / len(items) for name, t in times.items()}
    base = per_image[ours]
    header = f"{'method':<34s} {'ms/img':>9s} {'img/s':>9s} {'throughput vs eager':>20s}"
    print(header)
    print("-" * len(header))
    for name, sec in per_image.items():
        print(f"{name:<34s} {sec * 1e3:9.2f} {1 / sec:9.1f} {base / sec:19.2f}x")


if __name__ == "__main__":
    main()
