"""G1 diagnosis on the val photos: in-hole edge density against the truth, and precision / recall / F1 at several
output thresholds (edge pixels counted exactly), at 128 and 256 px, for each G_edge checkpoint given.

    .venv/bin/python benchmarks/g1_diagnosis.py data/checkpoints/edge.pt data/checkpoints/campaign/edge_resize_corpus.pt
    .venv/bin/python benchmarks/g1_diagnosis.py --photos test CHECKPOINT   # or heldout (data/heldout/): report only

A quality measurement, not a speed one (data/README.md, "The training campaign on the corpus"): the val photos
with the trainer's fixed val holes (seed 1); `--photos test` or `heldout` score those photos, never to choose a
checkpoint. The last row of each size is issue 18's classical anchor for G1: the Canny edges (sigma 2) of OpenCV's
Telea fill, scored the same way (no threshold: Canny's map is binary).
"""
import sys, torch, numpy as np
from edgeconnect_lib.config import get_config
from edgeconnect_lib.data import InpaintingDataset
from edgeconnect_lib.checkpoints import load_checkpoint
from edgeconnect_lib.models import network_from_checkpoint, edge_outputs
from edgeconnect_lib.baselines import telea
from edgeconnect_lib.edges import canny_edges
from edgeconnect_lib.images import rgb_to_gray
from edgeconnect_lib.evaluation import photo_paths
torch.set_num_threads(1)
cfg = get_config("course", stage="edge")
args = sys.argv[1:]
split = "val"
if args[:1] == ["--photos"]:
    split, args = args[1], args[2:]
photos = photo_paths(split)
for size, masks in ((128, 4), (256, 4)):
    val = InpaintingDataset(photos, size=size, train=False, seed=1, sigma=cfg.sigma,
                            mask_mode=cfg.mask_mode, hole_range=tuple(cfg.hole_range))
    items = [val[i] for i in range(len(val))]
    for path in args:
        G = network_from_checkpoint(load_checkpoint(path), "G_edge").eval()
        with torch.no_grad():
            x = [torch.stack(t) for t in zip(*items)]
            image, gray, edge, mask = x
            pred = edge_outputs(G, gray, edge, mask, cfg.sigma)  # with a prefill G1's hint (networks.EdgeGenerator)
        hole = mask > 0.5
        true = (edge > 0.5) & hole
        row = [f"{size}px {path}",
               f"true density {true.sum().item() / hole.sum().item():.3f}"]
        for th in (0.5, 0.3, 0.2, 0.1):
            p = (pred > th) & hole
            tp = (p & true).sum().item()
            prec = tp / max(1, p.sum().item()); rec = tp / max(1, true.sum().item())
            f1 = 2 * prec * rec / max(1e-9, prec + rec)
            row.append(f"t{th}: dens {p.sum().item() / hole.sum().item():.3f} P {prec:.2f} R {rec:.2f} F1 {f1:.3f}")
        print(" | ".join(row), flush=True)
    # the classical anchor: Canny of the Telea fill, in the same holes
    tp = drawn = truth = 0
    for image, _gray, edge, mask in items:
        m = mask[0].numpy() > 0.5
        filled = telea(image.permute(1, 2, 0).numpy(), m)
        c = canny_edges(rgb_to_gray(filled), sigma=cfg.sigma) & m
        t = (edge[0].numpy() > 0.5) & m
        tp += int((c & t).sum()); drawn += int(c.sum()); truth += int(t.sum())
    prec, rec = tp / max(1, drawn), tp / max(1, truth)
    print(f"{size}px Canny of Telea ({len(items)} holes, {truth} true edge pixels) | P {prec:.2f} R {rec:.2f} F1 {2 * prec * rec / max(1e-9, prec + rec):.3f}", flush=True)
