"""Solutions to the exercises of lesson 02 (run: python notebooks/solutions/02_masks_solutions.py [SIZE] [N]).

1. Hit rates of irregular_mask per bucket at another size and count: they stay at (nearly) 100%.
2. The narrow range (0.30, 0.31]: every mask lands inside it; on a 4 x 4 mask no pixel count k has
   0.30 < k / 16 <= 0.31 (the ratio moves in steps of 1/16), so the library refuses the range.
3. 1,000 free-form masks: the share per hole-ratio bucket, and how many LaMa's 50% rule would discard.
4. A mask saved as PNG and as JPEG (quality 95, 75 and 20) and read back with load_mask: a PNG is exact; a
   JPEG's grey fringe is rounded away when it is small, and refused when it is not (the 2% rule).

``main(size, masks_per_bucket, free_form)`` (the lesson's exercise: 256 px, 300 masks per bucket, 1,000 strokes).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from edgeconnect_lib.masks import HOLE_BUCKETS, free_form_mask, hole_ratio, irregular_mask, load_mask, save_mask


def main(size: int = 256, masks_per_bucket: int = 300, free_form: int = 1000, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)

    # exercise 1
    hit_rates = {}
    for lo, hi in HOLE_BUCKETS:
        r = np.array([hole_ratio(irregular_mask(size, size, (lo, hi), rng)) for _ in range(masks_per_bucket)])
        hit_rates[(lo, hi)] = float(np.mean((r > lo) & (r <= hi)))
    print(f"exercise 1: {size} px, {masks_per_bucket} masks per bucket, hit rates "
          + ", ".join(f"({lo:.1f}, {hi:.1f}] {100 * v:.1f}%" for (lo, hi), v in hit_rates.items()))

    # exercise 2
    narrow = [irregular_mask(size, size, (0.30, 0.31), rng) for _ in range(20)]
    narrow_ratios = [hole_ratio(m) for m in narrow]
    pieces = [ndimage.label(m, structure=np.ones((3, 3), bool))[1] for m in narrow]
    try:
        irregular_mask(4, 4, (0.30, 0.31), np.random.default_rng(seed))
        refused = ""
    except ValueError as err:
        refused = str(err)
    fits = [k for k in range(17) if 0.30 < k / 16 <= 0.31]
    print(f"exercise 2: (0.30, 0.31]: ratios {min(narrow_ratios):.4f}..{max(narrow_ratios):.4f}, "
          f"{np.mean(pieces):.1f} separate pieces per mask on average; on 4 x 4 the ratio moves in steps of 1/16 = "
          f"0.0625 and pixel counts fitting the range: {fits} -> refused: {refused[:60]}...")

    # exercise 3
    ratios = np.array([hole_ratio(free_form_mask(size, size, rng)) for _ in range(free_form)])
    bins = [(0.0, HOLE_BUCKETS[0][0])] + list(HOLE_BUCKETS) + [(HOLE_BUCKETS[-1][1], 1.0)]  # (lo, hi] each
    shares = {f"{round(lo * 100)}-{round(hi * 100)}%": float(np.mean((ratios > lo) & (ratios <= hi))) for lo, hi in bins}
    top = max(shares, key=shares.get)
    above_half = float(np.mean(ratios > 0.5))
    print(f"exercise 3: {free_form} free-form masks, mean ratio {ratios.mean():.3f}; shares "
          + ", ".join(f"{k} {v:.1%}" for k, v in shares.items()) + f"; most fall in {top}; above 50%: {above_half:.1%}")

    # exercise 4 (instead of a painting program: PIL writes the same kinds of files)
    mask = irregular_mask(size, size, (0.3, 0.4), rng)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {"png": save_mask(mask, Path(tmp) / "mask.png")}
        for quality in (95, 75, 20):
            files[f"jpeg q{quality}"] = Path(tmp) / f"mask_q{quality}.jpg"
            Image.fromarray(mask.astype(np.uint8) * 255).save(files[f"jpeg q{quality}"], quality=quality)
        for name, path in files.items():
            try:
                loaded = load_mask(path)
                results[name] = f"accepted, {int(np.sum(loaded != mask))} pixels differ from the original"
            except ValueError as err:
                results[name] = "refused: " + str(err).split(": ", 1)[1].split(";")[0]
    for name, verdict in results.items():
        print(f"exercise 4: {name}: {verdict}")
    return {"hit_rates": hit_rates, "narrow_ratios": narrow_ratios, "refused": refused, "fits": fits,
            "shares": shares, "above_half": above_half, "files": results}


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args) if args else main()
