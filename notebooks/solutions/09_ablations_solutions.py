"""Solutions to the exercises of lesson 09 (run: python notebooks/solutions/09_ablations_solutions.py [SIZE] [PHOTOS]).

1. Edges of the known region only: the hole gets no edges, the rest the true Canny map. Between "none" and "true"?
2. Canny's high threshold at sigma 2: density against quality, with the sigma fixed.
3. Damaged edges: half of the true edge pixels dropped, or 1% of the pixels switched on at random.

Written answers to the "why" questions (measured at 128 px, 6 test photos, 1 hole per photo and bucket: 30 holes;
each verdict is the course's rule, the paired difference to the true edges with its bootstrap 95% interval).

1. The known region's edges alone land between the two, closer to the true ones: -0.19 dB against the true edges,
   interval -0.45 to +0.07, no clear difference. Most of what the true edges give comes from the edges around the
   hole; the edges inside it add little for this G_2.
2. Quality follows the density, not the sigma: at sigma 2, raising the high threshold from 0.15 to 0.4 thins the map
   from 7.2% to 3.4% of the pixels and raises the in-hole PSNR from 20.10 to 20.54 dB, as the sparse side of the
   sigma sweep does. Fewer, stronger edges suit this G_2, whichever knob removes the weak ones.
3. Neither damage hurts clearly: half the edge pixels dropped +0.02 dB (interval -0.11 to +0.15), 1% random edge
   pixels -0.00 dB (-0.03 to +0.04). So G_2 does not read the map pixel by pixel: a contour with gaps still says
   where a boundary runs, and isolated dots, unlike anything Canny draws, are ignored. It reads the edge map as a
   coarse hint of where structure is, which is also why G_1's few, approximate edges give it so little (lesson 09,
   section 2).
"""
from __future__ import annotations

import sys

import numpy as np

from edgeconnect_lib.ablations import EdgeSource, compare, detector, edge_ablation
from edgeconnect_lib.bootstrap import format_comparison
from edgeconnect_lib.course_data import course_images, data_dir
from edgeconnect_lib.edges import canny_edges
from edgeconnect_lib.evaluation import make_eval_set
from edgeconnect_lib.models import EdgeConnect


def known_region_only(sigma: float) -> EdgeSource:
    """Exercise 1: the test-time Canny map (hole masked out) without G_edge: no edge at all in the hole."""
    return lambda gray, mask: canny_edges(gray, sigma, mask=mask)


def dropped(sigma: float, keep: float = 0.5, seed: int = 0) -> EdgeSource:
    """Exercise 3a: each true edge pixel kept with probability ``keep`` (the same pixels on every run)."""
    def source(gray: np.ndarray, mask: np.ndarray) -> np.ndarray:
        edges = canny_edges(gray, sigma)
        return edges & (np.random.default_rng(seed).random(edges.shape) < keep)
    return source


def noisy(sigma: float, rate: float = 0.01, seed: int = 0) -> EdgeSource:
    """Exercise 3b: the true edges plus a fraction ``rate`` of all pixels switched on at random."""
    def source(gray: np.ndarray, mask: np.ndarray) -> np.ndarray:
        edges = canny_edges(gray, sigma)
        return edges | (np.random.default_rng(seed).random(edges.shape) < rate)
    return source


def _line(row: dict) -> str:
    return f"{row['name']:>22}: density {row['density']:6.2%}, PSNR {row['psnr']:.2f} dB, SSIM {row['ssim']:.3f}"


def main(size: int = 128, photos: int = 6) -> dict:
    ec = EdgeConnect.load(data_dir() / "checkpoints" / "edgeconnect.pt")
    eval_set = make_eval_set(course_images("test")[:photos], size=size, masks_per_bucket=1)
    s = ec.sigma
    rows = edge_ablation(ec, eval_set, {
        "true": detector("canny", s), "known region only": known_region_only(s),
        "half the edges dropped": dropped(s), "1% random edge pixels": noisy(s),
    })
    by = {r["name"]: r for r in rows}
    print("exercises 1 and 3, G_inpaint given:")
    for r in rows:
        print(_line(r))
    samples = [x for r in rows for x in r["samples"]]  # the course's rule: paired differences to the true edges
    verdicts = {name: compare(samples, name, "true", "psnr")["all"]
                for name in ("known region only", "half the edges dropped", "1% random edge pixels")}
    for name, c in verdicts.items():
        print(f"{name:>22} - true: PSNR {format_comparison(c, 'dB')}")
    highs = (0.15, 0.2, 0.3, 0.4)
    thresholds = edge_ablation(ec, eval_set, {f"high threshold {h:g}": detector("canny", s, high_threshold=h)
                                              for h in highs})
    print(f"exercise 2, Canny at sigma {s:g} with the high threshold varied (low 0.1):")
    for r in thresholds:
        print(_line(r))
    return {"true": by["true"], "known_only": by["known region only"], "dropped": by["half the edges dropped"],
            "noisy": by["1% random edge pixels"], "thresholds": thresholds, "verdicts": verdicts}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 128, int(sys.argv[2]) if len(sys.argv) > 2 else 6)
