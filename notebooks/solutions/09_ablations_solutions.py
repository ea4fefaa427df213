"""Solutions to the exercises of lesson 09 (run: python notebooks/solutions/09_ablations_solutions.py [SIZE] [PHOTOS]).

1. Edges of the known region only: the hole gets no edges, the rest the true Canny map. Between "none" and "true"?
2. Canny's high threshold at sigma 2: density against quality, with the sigma fixed.
3. Damaged edges: half of the true edge pixels dropped, or 1% of the pixels switched on at random.

Written answers to the "why" questions (measured at 128 px, 6 test photos, 1 hole per photo and bucket: 30 holes;
each verdict is the course's rule, the paired difference to the true edges with its bootstrap 95% interval).

1. The known region's edges alone land well below the true edges: -1.23 dB against them, interval
   -1.50 to -0.96, worse. What the true edges give comes mostly from the edges inside the hole, the lines G_2
   cannot see around it: that is the part G_1 (or a user, lesson 10) must supply.
2. Quality follows the sigma's density only in part: at sigma 2, raising the high threshold from 0.15 to 0.4 thins
   the map from 7.2% to 3.4% of the pixels and lowers the in-hole PSNR from 22.25 to 22.01 dB (the 0.3 threshold
   gives 21.95). Dropping the weak edges of the training maps removes lines this G_2 uses; it was trained on
   sigma-2 Canny with the default thresholds, and maps close to those suit it best.
3. Dropping half of the edge pixels hurts clearly (-0.41 dB, interval -0.55 to -0.27); 1% random edge pixels hurt
   only a little (-0.08 dB, -0.17 to -0.01), though also clearly. So G_2 reads the contours it is given, and a
   contour with gaps says less; isolated dots, unlike anything Canny draws, it mostly ignores. This is why G_1's
   partial, approximate edges give it only a small gain (lesson 09, section 2).
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
