"""Solutions to the exercises of lesson 00 (run: python notebooks/solutions/00_course_map_solutions.py [SIZE]).

1. The preview on every test photo, one hole per hole-ratio bucket: wins of the course model over Telea and the
   mean gap of in-hole PSNR, with the course's rule (a paired bootstrap 95% interval of the mean gap,
   ``edgeconnect_lib.bootstrap``; lesson 08): 30 cases are enough for an interval that decides.
2. The mean-colour fill as a floor: is the course model above it, on the preview photo and per test photo?
3. Inference time of ``EdgeConnect.inpaint`` at three sides (best of three): how it grows with the side.
   Answer (why): both networks are fully convolutional, so every layer does the same work per pixel; doubling the
   side gives four times the pixels and, once the fixed costs (Python, allocation, the Canny edges of a small
   image) are small against the convolutions, about four times the time: the cost per pixel is constant. At
   small sides the fixed costs dominate and the growth is less than 4x per doubling.

``main(size)`` scores at ``size`` px (the lesson: 256); the timing uses ``size // 2``, ``size`` and ``2 * size``.
"""
from __future__ import annotations

import sys
import time

import numpy as np

from edgeconnect_lib.bootstrap import format_comparison, paired_bootstrap
from edgeconnect_lib.course_data import course_images, data_dir
from edgeconnect_lib.data import center_square
from edgeconnect_lib.evaluation import mean_fill, score, telea
from edgeconnect_lib.images import load_image
from edgeconnect_lib.masks import HOLE_BUCKETS, irregular_mask
from edgeconnect_lib.models import EdgeConnect


def main(size: int = 256, preview_photo: int = 0, seed: int = 0) -> dict:
    # preview_photo 0 and hole seed 0: the lesson's PREVIEW_PHOTO and SEED defaults (section 0)
    ec = EdgeConnect.load(data_dir() / "checkpoints" / "edgeconnect.pt", device="cpu")
    photos = [center_square(load_image(p), size) for p in course_images("test")]

    # exercise 1 (and 2): every test photo x one hole per bucket, in-hole PSNR of ours, Telea and the mean fill
    rows = []
    for p, photo in enumerate(photos):
        for b, bucket in enumerate(HOLE_BUCKETS):
            hole = irregular_mask(size, size, bucket, np.random.default_rng([seed, p, b]))
            psnr = {name: score(method(photo, hole), photo, hole)["psnr"]
                    for name, method in (("ours", lambda im, m: ec.inpaint(im, m).image), ("telea", telea),
                                         ("mean", mean_fill))}
            rows.append({"photo": p, "bucket": bucket, "hole": float(hole.mean()), **psnr})
    wins = sum(r["ours"] > r["telea"] for r in rows)
    gap = float(np.mean([r["ours"] - r["telea"] for r in rows]))
    vs_telea = paired_bootstrap([r["ours"] for r in rows], [r["telea"] for r in rows])
    print(f"exercise 1: ours beats Telea in {wins}/{len(rows)} cases; in-hole PSNR, ours - Telea: "
          f"{format_comparison(vs_telea, 'dB')}")

    # exercise 2: the preview's photo and hole (lesson 00, section 0), then per photo over the buckets
    photo = photos[preview_photo]
    hole = irregular_mask(size, size, (0.2, 0.3), np.random.default_rng(seed))
    preview = {name: score(out, photo, hole)["psnr"] for name, out in
               (("ours", ec.inpaint(photo, hole).image), ("telea", telea(photo, hole)), ("mean", mean_fill(photo, hole)))}
    above_mean = {p: float(np.mean([r["ours"] - r["mean"] for r in rows if r["photo"] == p])) > 0
                  for p in range(len(photos))}
    print(f"exercise 2: preview photo: ours {preview['ours']:.2f} dB, mean fill {preview['mean']:.2f} dB -> "
          f"{'above' if preview['ours'] > preview['mean'] else 'below'} the floor; mean over the buckets above the "
          f"mean fill on {sum(above_mean.values())}/{len(photos)} test photos")

    # exercise 3: best of three timings at three sides
    times = {}
    for side in (size // 2, size, 2 * size):
        image = center_square(load_image(course_images("test")[preview_photo]), side)
        m = irregular_mask(side, side, (0.2, 0.3), np.random.default_rng(seed))
        best = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            ec.inpaint(image, m)
            best = min(best, time.perf_counter() - t0)
        times[side] = best
    sides = sorted(times)
    growth = times[sides[-1]] / times[sides[0]]
    print("exercise 3: " + ", ".join(f"{s} px {t * 1000:.0f} ms" for s, t in times.items())
          + f"; {sides[-1]} vs {sides[0]} px: x{growth:.1f} for x{(sides[-1] / sides[0]) ** 2:.0f} pixels "
          "(convolutions cost the same per pixel, so time grows about like the pixel count once the fixed costs are small)")
    return {"rows": rows, "wins": wins, "gap": gap, "vs_telea": vs_telea, "preview": preview, "above_mean": above_mean, "times": times}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 256)
