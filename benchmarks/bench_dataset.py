"""How many samples per second ``InpaintingDataset`` makes on the course photos (one process).

Run from the repository root:

    .venv/bin/python benchmarks/bench_dataset.py            # size 256, ~4 s per row, < 1 minute
    .venv/bin/python benchmarks/bench_dataset.py --size 128 --seconds 2

Rows: reading a photo alone (``load_image``, the reference every row is compared with), then
full samples (photo + gray + Canny edges + mask) in training and evaluation mode, and the parts
of a sample on their own (Canny at ``size``, one irregular mask). A DataLoader with ``W`` workers
makes about ``W`` times the single-process rate on a machine with ``W`` free cores.
"""
from __future__ import annotations

import argparse
import platform
import time
from typing import Callable

import numpy as np
import torch

from edgeconnect_lib.course_data import course_images
from edgeconnect_lib.data import InpaintingDataset
from edgeconnect_lib.edges import canny_edges
from edgeconnect_lib.images import load_image, rgb_to_gray
from edgeconnect_lib.masks import irregular_mask


def rate(make_one: Callable[[int], object], seconds: float, min_items: int = 5) -> float:
    """Items per second of ``make_one(i)`` for i = 0, 1, ... over about ``seconds``."""
    make_one(0)  # warm-up (imports, caches)
    count, start = 0, time.perf_counter()
    while True:
        make_one(count)
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and count >= min_items:
            return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="sample side in pixels (paper: 256)")
    parser.add_argument("--seconds", type=float, default=4.0, help="time spent per row")
    args = parser.parse_args()
    torch.set_num_threads(1)

    photos = course_images("train")
    n = len(photos)
    size = args.size
    train = InpaintingDataset(photos, size=size, train=True, edge_mode="canny", mask_mode="irregular")
    val = InpaintingDataset(photos, size=size, train=False, edge_mode="canny", mask_mode="irregular")
    mix = InpaintingDataset(photos, size=size, train=True, edge_mode="canny", mask_mode="mix")
    gray = rgb_to_gray(np.asarray(val[0].image.permute(1, 2, 0)))
    rng = np.random.default_rng(0)

    rows = [
        ("load_image only (reference)", lambda i: load_image(photos[i % n])),
        ("train: canny + irregular", lambda i: train[i % n]),
        ("val: canny + irregular", lambda i: val[i % n]),
        ("train: canny + mix", lambda i: mix[i % n]),
        (f"part: canny_edges {size}x{size}", lambda i: canny_edges(gray, sigma=2.0)),
        (f"part: irregular_mask {size}x{size}", lambda i: irregular_mask(size, size, (0.1, 0.6), rng=rng)),
    ]
    print(f"InpaintingDataset on {n} course photos (<= 512 px), size {size}, 1 process, "
          f"{platform.processor() or platform.machine()}, torch threads 1")
    print(f"{'what':<34} {'items/s':>9} {'ms/item':>9} {'vs load_image':>14}")
    reference = None
    for name, fn in rows:
        r = rate(fn, args.seconds)
        reference = reference or r
        print(f"{name:<34} {r:9.1f} {1000.0 / r:9.2f} {r / reference:13.2f}x")


if __name__ == "__main__":
    main()
