"""Solutions to the exercises of lesson 04 (run: python notebooks/solutions/04_loss_terms_solutions.py [SIZE] [ITERATIONS]).

1. GAN = "hinge" (and "lsgan"): only the adversarial terms and the discriminators' losses change; L_FM, L_l1,
   L_perc and L_style do not look at the adversarial form (the networks and their outputs are the same).
2. masked_l1 with a single hole pixel: for an output wrong only in the hole the loss is that pixel's error, the
   mean error per hole pixel as always. But L_l1 is applied to G2's *raw* output, wrong everywhere during
   training: then the whole image's error is divided by rho = 1 / (H W), and every pixel's gradient is H W times
   larger than for a full-image hole. With the course's holes (10-60%) 1/rho is between 1.7 and 10: harmless.
3. ImageNet VGG19: the shift-versus-noise comparison of section 5 with whatever weights ``load_vgg19`` finds
   (offline, without the file, the labelled random fallback: then the ImageNet answer needs the file).
4. style_input="full": the style gradient now also pushes the known region of G2's raw output, and the Gram
   matrices mix the known region's statistics with the hole's; a short training run with each (the lesson's
   exercise: a few hundred iterations; main() runs ``iterations``, a handful in the tests) and its in-hole L1.
5. L_FM by hand with the paper's 1/N_i equals ``feature_matching_loss``.
"""
from __future__ import annotations

import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from edgeconnect_lib.course_data import course_images, course_masks
from edgeconnect_lib.data import InpaintingDataset, center_square
from edgeconnect_lib.edges import canny_edges
from edgeconnect_lib.images import load_image, rgb_to_gray
from edgeconnect_lib.losses import (STYLE_LAYERS, LossWeights, PerceptualStyleLoss, discriminator_loss,
                                    edge_generator_objective, feature_matching_loss, gram_matrix,
                                    inpaint_generator_objective, masked_l1)
from edgeconnect_lib.masks import load_mask
from edgeconnect_lib.models import mask_edge_input, mask_image_input
from edgeconnect_lib.networks import EdgeGenerator, InpaintGenerator, PatchDiscriminator, refresh_spectral_norm
from edgeconnect_lib.vgg import load_vgg19


def main(size: int = 96, iterations: int = 200, photo: str = "lomiri_picos_de_europa.jpg", seed: int = 0) -> dict:
    path = next(p for p in course_images("all") if p.name == photo)
    image = torch.from_numpy(center_square(load_image(path), size)).permute(2, 0, 1)[None]  # (1, 3, S, S)
    gray_np = rgb_to_gray(image[0].permute(1, 2, 0).numpy())
    gray = torch.from_numpy(gray_np)[None, None]
    edges = torch.from_numpy(canny_edges(gray_np, 2.0).astype(np.float32))[None, None]
    mask_np = load_mask(next(p for p in course_masks() if p.name.startswith("irregular_20-30")), size)
    mask = torch.from_numpy(mask_np.astype(np.float32))[None, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        vgg, source = load_vgg19(allow_download=False)
    perc_style = PerceptualStyleLoss(vgg, source=source)

    # exercise 1: the same untrained networks and inputs, three adversarial forms
    torch.manual_seed(seed)
    G_edge = refresh_spectral_norm(EdgeGenerator(16, 2), 20)
    G_inpaint = InpaintGenerator(16, 2)
    D_edge = refresh_spectral_norm(PatchDiscriminator(2, 16), 20).eval()
    D_inpaint = refresh_spectral_norm(PatchDiscriminator(3, 16), 20).eval()
    with torch.no_grad():
        edges_pred = G_edge(mask_edge_input(gray, edges, mask))
        outputs = G_inpaint(mask_image_input(image, edges, mask))
        real_logits, real_feats = D_edge(torch.cat((gray, edges), 1))
        fake_logits, fake_feats = D_edge(torch.cat((gray, edges_pred), 1))
        real2, fake2 = D_inpaint(image)[0], D_inpaint(outputs)[0]
        terms = {}
        for kind in ("nsgan", "lsgan", "hinge"):
            w = LossWeights(gan=kind)
            g1 = edge_generator_objective(fake_logits, real_feats, fake_feats, w)
            g2 = inpaint_generator_objective(outputs, image, mask, fake2, perc_style, w)
            terms[kind] = {"G1 " + k: float(v) for k, v in g1.items()} | {"G2 " + k: float(v) for k, v in g2.items()}
            terms[kind] |= {"D1 loss_D": float(discriminator_loss(real_logits, fake_logits, kind)),
                            "D2 loss_D": float(discriminator_loss(real2, fake2, kind))}
    changed = sorted(k for k in terms["nsgan"] if any(abs(terms[g][k] - terms["nsgan"][k]) > 1e-9 for g in terms))
    print("exercise 1: terms that change with the adversarial form:", ", ".join(changed))

    # exercise 2: one hole pixel. (a) an output wrong only in the hole; (b) a raw output wrong everywhere, as G2's
    # raw output is during training (the authors apply L_l1 to it, not to the composite)
    noisy = (image + 0.1 * torch.randn(image.shape, generator=torch.Generator().manual_seed(seed))).clamp(0, 1)
    single = torch.zeros_like(mask)
    single[..., size // 2, size // 2] = 1
    only_hole = noisy * single + image * (1 - single)
    pixel_error = float((noisy - image).abs()[..., size // 2, size // 2].mean())
    raw = noisy.clone().requires_grad_(True)
    loss_raw = masked_l1(raw, image, single)
    (g_raw,) = torch.autograd.grad(loss_raw, raw)
    plain = float(F.l1_loss(noisy, image))
    l1_single = {"wrong in the hole only": float(masked_l1(only_hole, image, single)),
                 "raw, wrong everywhere": float(loss_raw.detach()),
                 "raw, the 20-30% hole": float(masked_l1(noisy, image, mask))}
    per_pixel = {"single pixel": float(g_raw.abs().max()), "hole 10%": 1 / (3 * size * size * 0.1),
                 "hole 60%": 1 / (3 * size * size * 0.6)}
    print(f"exercise 2: one hole pixel (its own error {pixel_error:.4f}, the image's mean error {plain:.4f}): masked_l1 "
          + ", ".join(f"{k} {v:.4f}" for k, v in l1_single.items())
          + f"; the raw output's whole-image error is multiplied by 1/rho = {size * size}; |gradient| at every wrong "
          "pixel: " + ", ".join(f"{k} {v:.2e}" for k, v in per_pixel.items())
          + " (the course's holes: 1/rho between 1.7 and 10, harmless)")

    # exercise 3: shift vs noise, perceptual and style, with the VGG19 weights that are available
    shifted, noised = torch.roll(image, (8, 8), (-2, -1)), noisy
    with torch.no_grad():
        p_shift, s_shift = perc_style(shifted, image)
        p_noise, s_noise = perc_style(noised, image)
    ratios = {"perceptual": float(p_shift / p_noise), "style": float(s_shift / s_noise)}
    print(f"exercise 3: VGG19 weights: {source[:60]}; shift / noise: perceptual {ratios['perceptual']:.2f}, "
          f"style {ratios['style']:.2f}" + (" (random weights: rerun with the ImageNet file for the real answer)"
                                            if source.startswith("RANDOM") else ""))

    # exercise 4a: where the style gradient acts, per style_input
    outside = {}
    for mode in ("masked", "full"):
        loss = PerceptualStyleLoss(vgg, source=source, style_input=mode)
        raw = outputs.clone().requires_grad_(True)
        _, style = loss(raw, image, mask)
        (g,) = torch.autograd.grad(style, raw)
        outside[mode] = float((g * (1 - mask)).norm() / g.norm())
    print("exercise 4: share of the style gradient's norm outside the hole: "
          + ", ".join(f"{k} {v:.2f}" for k, v in outside.items()))

    # exercise 4b: a short training run of G2 (L1 + 250 L_style, no GAN) with each style_input
    train = InpaintingDataset(course_images("train"), size=size, train=True, seed=seed)
    val = InpaintingDataset(course_images("val"), size=size, train=False, seed=seed)
    vb = [torch.stack(t) for t in zip(*[val[i] for i in range(len(val))])]
    trained = {}
    for mode in ("masked", "full"):
        torch.manual_seed(seed)
        G = InpaintGenerator(16, 2)
        loss = PerceptualStyleLoss(vgg, source=source, style_input=mode)
        opt = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.0, 0.9))
        rng = np.random.default_rng(seed)
        for _ in range(iterations):
            b = [torch.stack(t) for t in zip(*[train[int(i)] for i in rng.integers(0, len(train), 4)])]
            out = G(mask_image_input(b[0], b[2], b[3]))
            _, style = loss(out, b[0], b[3])
            total = masked_l1(out, b[0], b[3]) + 250.0 * style
            opt.zero_grad()
            total.backward()
            opt.step()
        with torch.no_grad():
            pred = G(mask_image_input(vb[0], vb[2], vb[3]))
        trained[mode] = float(((pred - vb[0]).abs() * vb[3]).sum() / (3 * vb[3].sum()))
    print(f"exercise 4: after {iterations} iterations, in-hole L1 on the val photos: "
          + ", ".join(f"{k} {v:.4f}" for k, v in trained.items()))

    # exercise 5: L_FM by hand, sum_i (1 / N_i) ||D_i(real) - D_i(fake)||_1
    by_hand = sum((r - f).abs().sum() / r.numel() for r, f in zip(real_feats, fake_feats))
    library = feature_matching_loss(real_feats, fake_feats)
    same = bool(torch.allclose(by_hand, library))
    print(f"exercise 5: L_FM by hand {float(by_hand):.6f}, feature_matching_loss {float(library):.6f} -> {same}")
    gram_ok = bool(torch.allclose(gram_matrix(real_feats[0]), gram_matrix(real_feats[0]).transpose(1, 2)))
    return {"terms": terms, "changed": changed, "pixel_error": pixel_error, "plain_l1": plain,
            "l1_single": l1_single, "per_pixel": per_pixel, "source": source, "ratios": ratios, "outside": outside, "trained": trained,
            "fm_by_hand": float(by_hand), "fm_library": float(library), "fm_same": same, "gram_symmetric": gram_ok,
            "style_layers": STYLE_LAYERS}


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args) if args else main()
