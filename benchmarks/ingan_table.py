"""Issue 19's table: InGAN, GPNN and bicubic at 2x wider, 2x taller and 0.5x narrower, by coherence and
completeness (bidirectional similarity, Simakov et al. 2008), for each InGAN checkpoint given.

    .venv/bin/python benchmarks/ingan_table.py data/checkpoints/ingan_plasma_colorful_cups.pt [RUN_OR_CKPT ...]

Each figure is measured at the checkpoint's own photo scale (its ``image_size``). Printed per geometry and method:
coherence and completeness (x 1000, lower is better), their ratio to bicubic's (the issue asks InGAN's coherence
<= 0.5x bicubic's), and the course's one rule against bicubic: the paired bootstrap 95% interval of the mean
per-patch difference (coherence: the output patch at the same position; completeness: the same photo patch),
"better"/"worse" only when the interval excludes 0. Last, per geometry, whether InGAN's output is a stretch:
the distance of its patches to the nearest patch of the bicubic stretch against that to the photo's, with the
same interval ("closer to the stretch" when it excludes 0 below). A quality measurement, not a speed one;
deterministic (GPNN seed 0).
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from edgeconnect_lib.bootstrap import format_comparison, paired_bootstrap
from edgeconnect_lib.ingan import InGAN, bicubic_retarget, gpnn_retarget, nearest_distances


def nearest(queries_image: np.ndarray, keys_image: np.ndarray) -> np.ndarray:
    """Per query patch (7x7 RGB), the mean squared difference to its nearest key patch, x 1000."""
    return nearest_distances(queries_image, keys_image).double().numpy() * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoints", nargs="+", help="InGAN checkpoint files or run folders")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    for path in a.checkpoints:
        model = InGAN.load(path, device="cpu")
        x = model.image
        h, w = x.shape[:2]
        print(f"\n{path}: photo {w}x{h} px, iteration {model.iteration}")
        print(f"  G(x; I): coherence {nearest(model.retarget(), x).mean():.2f}e-3 (the reconstruction's floor)")
        for name, size in (("2x wider", (h, 2 * w)), ("2x taller", (2 * h, w)), ("0.5x narrower", (h, round(w / 2)))):
            outs = {"InGAN": model.retarget(size), "GPNN": gpnn_retarget(x, size, seed=0),
                    "bicubic": bicubic_retarget(x, size)}
            coh = {m: nearest(y, x) for m, y in outs.items()}
            com = {m: nearest(x, y) for m, y in outs.items()}
            for m in ("InGAN", "GPNN", "bicubic"):
                line = (f"  {name:14s} {m:8s} coherence {coh[m].mean():6.2f}e-3 "
                        f"({coh[m].mean() / coh['bicubic'].mean():.2f}x bicubic)  completeness {com[m].mean():6.2f}e-3 "
                        f"({com[m].mean() / com['bicubic'].mean():.2f}x)")
                print(line)
                if m != "bicubic":
                    for k, d in (("coherence", coh), ("completeness", com)):
                        c = paired_bootstrap(d[m], d["bicubic"], higher_is_better=False)
                        print(f"      {k} vs bicubic: {format_comparison(c, 'e-3')}")
            # is InGAN's output a stretch? its patches' distance to the nearest patch of the bicubic stretch
            # against the photo's (its coherence): the interval's "better" means closer to the stretch
            to_stretch = nearest(outs["InGAN"], outs["bicubic"])
            c = paired_bootstrap(to_stretch, coh["InGAN"], higher_is_better=False)
            where = {"better": "closer to the stretch", "worse": "closer to the photo"}.get(c.verdict, c.verdict)
            print(f"      InGAN's patches: nearest in the bicubic stretch {to_stretch.mean():.2f}e-3, in the photo "
                  f"{coh['InGAN'].mean():.2f}e-3; stretch - photo: {format_comparison(c._replace(verdict=where), 'e-3')}")


if __name__ == "__main__":
    main()
