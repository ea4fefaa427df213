"""Canny edge labels per second: ``edgeconnect_lib.edges.canny_edges`` against ``skimage.feature.canny``.

Run from the repository root (about 20 s):

    .venv/bin/python benchmarks/bench_canny.py
    .venv/bin/python benchmarks/bench_canny.py --rounds 9 --sigma 3 --cv2-threads 1

Every course photo (``course_images("all")``) is converted to gray once, then labelled by both
implementations in alternating rounds (ours, then scikit-image's, on the same photos), at 256 x 256
(the paper's training size; resized with area averaging) and at the stored size (long side 512),
without and with a block hole. A row gives the median time of a round, the labels per second and
the speed ratio (scikit-image's time / ours) measured in that same run, and the mean pixel F1 of
our labels against scikit-image's. The target: ratio >= 2 and F1 >= 0.95.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time
from typing import Callable

import cv2
import numpy as np
from skimage import __version__ as skimage_version
from skimage.feature import canny as sk_canny

from edgeconnect_lib.course_data import course_images
from edgeconnect_lib.edges import canny_edges, edge_f1
from edgeconnect_lib.images import load_image, rgb_to_gray


def block_hole(shape: tuple[int, int]) -> np.ndarray:
    """A centred block covering a quarter of the image (True = hole)."""
    h, w = shape
    mask = np.zeros(shape, dtype=bool)
    mask[h // 4: h // 4 + h // 2, w // 4: w // 4 + w // 2] = True
    return mask


def round_seconds(label: Callable[[int], np.ndarray], n: int) -> float:
    """Seconds to label images 0..n-1 once."""
    start = time.perf_counter()
    for i in range(n):
        label(i)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sigma", type=float, default=2.0, help="Gaussian sigma (paper: 2)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per row (median reported)")
    parser.add_argument("--cv2-threads", type=int, default=None,
                        help="cv2.setNumThreads(N) for our side (default: OpenCV's own choice)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    if args.cv2_threads is not None:
        cv2.setNumThreads(args.cv2_threads)

    paths = course_images("all")
    stored = [rgb_to_gray(load_image(p)) for p in paths]
    small = [cv2.resize(g, (256, 256), interpolation=cv2.INTER_AREA) for g in stored]
    n = len(stored)
    sigma = args.sigma
    print(f"Canny labels, sigma={sigma}, thresholds 0.1 / 0.2, {n} course photos, {args.rounds} rounds; "
          f"numpy {np.__version__}, OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads), "
          f"scikit-image {skimage_version}, {platform.processor() or platform.machine()}")
    header = f"{'images':<28s} {'ours ms/img':>11s} {'skimage ms/img':>14s} {'ours img/s':>10s} " \
             f"{'skimage img/s':>13s} {'ratio':>6s} {'mean F1':>8s}"
    print(header)
    print("-" * len(header))

    ratios = []
    for name, grays, with_hole in [
        ("256x256", small, False),
        ("256x256 + block hole", small, True),
        ("stored size (<=512)", stored, False),
        ("stored size + block hole", stored, True),
    ]:
        holes = [block_hole(g.shape) if with_hole else None for g in grays]

        def ours(i: int) -> np.ndarray:
            return canny_edges(grays[i], sigma, mask=holes[i])

        def theirs(i: int) -> np.ndarray:
            # scikit-image's mask is True = valid, ours True = hole.
            valid = None if holes[i] is None else ~holes[i]
            return sk_canny(grays[i], sigma, 0.1, 0.2, mask=valid)

        f1 = float(np.mean([edge_f1(ours(i), theirs(i)) for i in range(n)]))  # also warms up
        t_ours, t_theirs = [], []
        for _ in range(args.rounds):  # alternate, so both see the same machine load
            t_ours.append(round_seconds(ours, n))
            t_theirs.append(round_seconds(theirs, n))
        a, b = statistics.median(t_ours) / n, statistics.median(t_theirs) / n
        ratios.append(b / a)
        print(f"{name:<28s} {a * 1e3:11.2f} {b * 1e3:14.2f} {1 / a:10.0f} {1 / b:13.0f} {b / a:5.2f}x {f1:8.4f}")

    # Parity at the sigmas the course uses (stored size, no hole).
    f1s = {s: float(np.mean([edge_f1(canny_edges(g, s), sk_canny(g, s, 0.1, 0.2)) for g in stored]))
           for s in (1.0, 2.0, 3.0)}
    print("mean F1 vs scikit-image at stored size: " + ", ".join(f"sigma {s:g}: {f:.4f}" for s, f in f1s.items()))
    worst = min(ratios)
    verdict = "OK" if worst >= 2.0 and min(f1s.values()) >= 0.95 else "BELOW TARGET"
    print(f"speed ratio vs scikit-image: {worst:.2f}x (lowest row) .. {max(ratios):.2f}x -> {verdict} "
          "(target >= 2x, F1 >= 0.95)")


if __name__ == "__main__":
    main()
