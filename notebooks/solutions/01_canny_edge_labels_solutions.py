"""Solutions to the exercises of lesson 01 (run: python notebooks/solutions/01_canny_edge_labels_solutions.py [SIZE]).

1. sigma 1 vs 3: which structures disappear first? Each 8-connected edge chain at sigma 1 is checked for a
   sigma-3 edge within 2 px; short chains (texture) vanish far more often than long ones (contours).
2. LOW_THRESHOLD = HIGH_THRESHOLD = 0.2: every pixel that survives non-maximum suppression is strong, so
   hysteresis keeps them all and the result is NMS cut at 0.2; the density drops.
3. Hole-aware edges without the normalisation: Canny on the black-filled photo, edges in and next to the hole
   deleted afterwards. 2-6 px from the hole they agree less with the full photo's edges than the hole-aware
   ones (F1): the black step's strong gradient, blurred outwards, suppresses and shifts the real edges nearby.
4. density_vs_sigma of the photos with the most and the fewest edges.

``main(size)`` works on the lesson's samples at ``size`` px (the lesson: 256).
"""
from __future__ import annotations

import sys

import numpy as np
from scipy import ndimage

from edgeconnect_lib.course_data import course_images
from edgeconnect_lib.data import InpaintingDataset
from edgeconnect_lib.edges import (canny_edges, density_vs_sigma, edge_density, edge_f1, edge_support, gradients,
                                   hysteresis, non_maximum_suppression, smooth)


def grow(m: np.ndarray, steps: int) -> np.ndarray:
    """Dilate a bool mask by ``steps`` pixels (8-neighbourhood), as in the lesson."""
    return ndimage.binary_dilation(m, structure=np.ones((3, 3), bool), iterations=steps) if steps else m.copy()


def main(size: int = 256, image_index: int = 24, seed: int = 0) -> dict:
    photos = course_images("all")
    dataset = InpaintingDataset(photos, size=size, train=False, sigma=2.0, mask_mode="block", seed=seed)
    sample = dataset[image_index]
    gray = sample.gray[0].numpy()
    hole = sample.mask[0].numpy() > 0.5

    # exercise 1: survival of sigma-1 chains at sigma 3, by chain length
    fine, coarse = canny_edges(gray, 1.0), canny_edges(gray, 3.0)
    labels, n = ndimage.label(fine, structure=np.ones((3, 3), bool))
    lengths = ndimage.sum(fine, labels, index=np.arange(1, n + 1))
    near_coarse = grow(coarse, 2)
    survived = ndimage.maximum(near_coarse, labels, index=np.arange(1, n + 1)).astype(bool)
    cut = float(np.median(lengths))
    short, long_ = lengths <= cut, lengths > cut
    survival = {"short": float(survived[short].mean()), "long": float(survived[long_].mean())}
    densities = {s: edge_density(canny_edges(gray, s)) for s in (1.0, 2.0, 3.0)}
    print(f"exercise 1: {n} chains at sigma 1 (median length {cut:.0f} px); still there at sigma 3: short chains "
          f"{survival['short']:.0%}, long chains {survival['long']:.0%}; density "
          + ", ".join(f"sigma {s:g} {d:.4f}" for s, d in densities.items()))

    # exercise 2: low = high = 0.2
    rows, cols, magnitude = gradients(smooth(gray, 2.0))
    thinned = non_maximum_suppression(rows, cols, magnitude, edge_support(gray.shape), 0.2)
    equal_thresholds = canny_edges(gray, 2.0, low_threshold=0.2, high_threshold=0.2)
    same_as_nms = bool(np.array_equal(equal_thresholds, hysteresis(thinned, 0.2))
                       and np.array_equal(equal_thresholds, thinned > 0))
    density_02 = edge_density(equal_thresholds)
    print(f"exercise 2: low = high = 0.2 gives exactly the NMS pixels above 0.2 ({same_as_nms}); density "
          f"{density_02:.4f} vs {densities[2.0]:.4f} with (0.1, 0.2): the weak chains that hysteresis kept are gone")

    # exercise 3: black fill, edges deleted in and next to the hole afterwards
    unnormalised = canny_edges(np.where(hole, 0.0, gray).astype(np.float32), 2.0) & ~grow(hole, 1)
    hole_aware = canny_edges(gray, 2.0, mask=hole)
    full = canny_edges(gray, 2.0)
    ring = grow(hole, 6) & ~grow(hole, 1)  # known pixels 2..6 px from the hole
    ring_density = {"black fill": float(unnormalised[ring].mean()), "hole-aware": float(hole_aware[ring].mean()),
                    "full photo": float(full[ring].mean())}
    ring_f1 = {"black fill": edge_f1(unnormalised & ring, full & ring), "hole-aware": edge_f1(hole_aware & ring, full & ring)}
    print("exercise 3: 2-6 px from the hole, edge density " + ", ".join(f"{k} {v:.3f}" for k, v in ring_density.items())
          + "; F1 against the full photo's edges there: " + ", ".join(f"{k} {v:.2f}" for k, v in ring_f1.items()))
    more = ring_density["black fill"] > ring_density["full photo"]
    print(f"  -> the black fill {'invents edges there' if more else 'invents no outline there but loses or shifts real edges'}"
          f" (F1 {'below' if ring_f1['black fill'] < ring_f1['hole-aware'] else 'not below'} the hole-aware edges')")

    # exercise 4: the photos with the most and the fewest edges at sigma 2
    grays = [dataset[i].gray[0].numpy() for i in range(len(dataset))]
    at_2 = np.array([edge_density(canny_edges(g, 2.0)) for g in grays])
    sigmas = np.arange(0.5, 4.01, 0.5)
    most, fewest = int(at_2.argmax()), int(at_2.argmin())
    curves = {photos[k].name: density_vs_sigma(grays[k], sigmas) for k in (most, fewest)}
    for name, curve in curves.items():
        print(f"exercise 4: {name}: " + " ".join(f"{d:.3f}" for d in curve))
    print(f"exercise 4: fewest edges: {photos[fewest].name} (an easy task for G1: little to draw, mostly smooth), "
          f"most: {photos[most].name}")
    return {"survival": survival, "densities": densities, "same_as_nms": same_as_nms, "density_02": density_02,
            "ring_density": ring_density, "ring_f1": ring_f1, "most": photos[most].name, "fewest": photos[fewest].name,
            "curves": curves, "sigmas": sigmas}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 256)
