"""Solutions to the exercises of lesson 03 (run: python notebooks/solutions/03_networks_and_spectral_norm_solutions.py [SIZE]).

1. The paper-size G1 (PRESET="paper"): channels 64 -> 128 -> 256 in the encoder, a middle at SIZE / 4, back to
   SIZE in the decoder (the lesson's exercise: SIZE = 256, a 64 x 64 middle).
2. Strides 2, 2, 2, 2, 1: a 94 x 94 patch (1 + 3 (1 + 2 + 4 + 8 + 16)); the logits map of a 256 px image, counted
   by running the five convolutions.
3. Power-iteration error per layer of D: the layer with the smallest sigma_2 / sigma_1 (among conv1-4) needs the
   fewest steps; conv5's matrix has one row (rank 1), so u is +-1 and the first v = W^T u / ||W^T u|| is already
   the top singular vector: exact after one step.
4. Biases break the a^5 law: LeakyReLU(a W x + b) is not a times anything, so the gradient no longer grows by
   exactly 4^5 when the weights are scaled by 4.
5. The exact norm of a stride-1 convolution on a periodic image: the largest singular value, over all 2-D
   frequencies, of the C_out x C_in matrix of the kernel's FFT (Sedghi et al. 2019), checked against power
   iteration on the circular convolution; far below the ceil(k/s) = 4 bound.
"""
from __future__ import annotations

import math
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edgeconnect_lib.config import get_config
from edgeconnect_lib.course_data import course_images
from edgeconnect_lib.data import InpaintingDataset
from edgeconnect_lib.networks import EdgeGenerator, PatchDiscriminator, receptive_field, refresh_spectral_norm


def power_iteration(W: torch.Tensor, u: torch.Tensor, steps: int) -> list[float]:
    """The lesson's power iteration: the estimate u^T W v after each step."""
    out = []
    for _ in range(steps):
        v = F.normalize(W.t() @ u, dim=0)
        u = F.normalize(W @ v, dim=0)
        out.append(float(u @ W @ v))
    return out


def operator_norm(apply, shape: tuple[int, ...], steps: int, gen: torch.Generator) -> float:
    """Largest singular value of a linear map x -> apply(x) on inputs of ``shape`` (power iteration on A^T A)."""
    x = torch.randn(shape, generator=gen, dtype=torch.float64)
    for _ in range(steps):
        x = (x / x.norm()).requires_grad_(True)
        y = apply(x)
        (x,) = torch.autograd.grad(y, x, y)
    return float(apply(x / x.norm()).norm())


def main(size: int = 64, seed: int = 0, long: int = 1000) -> dict:
    torch.manual_seed(seed)
    cfg = get_config("cpu")

    # exercise 1: the shape table of the paper-size G1
    g1 = EdgeGenerator()  # paper size: 64 channels, 8 residual blocks
    shapes = {}
    hooks = [getattr(g1, part).register_forward_hook(lambda m, i, o, part=part: shapes.__setitem__(part, tuple(o.shape)))
             for part in ("encoder", "middle", "decoder")]
    with torch.no_grad():
        g1(torch.rand(1, 3, size, size))
    for h in hooks:
        h.remove()
    enc_channels = [m.out_channels for m in g1.encoder if isinstance(m, nn.Conv2d)]
    print(f"exercise 1: paper G1 at {size} px: encoder convs {enc_channels} channels -> {shapes['encoder']}, "
          f"middle {shapes['middle']}, decoder {shapes['decoder']}")

    # exercise 2
    strides = [2, 2, 2, 2, 1]
    r = receptive_field(kernel_sizes=[4] * 5, strides=strides)
    x = torch.zeros(1, 3, 256, 256)
    with torch.no_grad():
        for s in strides:
            x = F.conv2d(x, torch.zeros(1, x.shape[1], 4, 4), stride=s, padding=1)
    patches = tuple(x.shape[-2:])
    print(f"exercise 2: strides {strides}: receptive field {r} x {r}; a 256 px image gives {patches[0]} x {patches[1]} "
          f"= {patches[0] * patches[1]} patches (the paper's D: 70 x 70 and 30 x 30 = 900)")

    # exercise 3: the lesson's D (cpu preset widths), each layer from its own random start
    D = PatchDiscriminator(in_channels=3, base_channels=cfg.disc_channels)
    gen = torch.Generator().manual_seed(seed)
    layers = {}
    for i in range(1, 6):
        W = getattr(D, f"conv{i}")[0].weight_orig.detach().double().flatten(1)
        s = torch.linalg.svdvals(W)
        u0 = F.normalize(torch.randn(W.shape[0], generator=gen, dtype=torch.float64), dim=0)
        err = np.abs(np.array(power_iteration(W, u0, long)) - float(s[0])) / float(s[0])
        below = np.nonzero(err < 1e-3)[0]
        layers[f"conv{i}"] = {"ratio": float(s[1] / s[0]) if len(s) > 1 else 0.0,
                              "steps": int(below[0]) + 1 if len(below) else None, "error_1": float(err[0])}
    for name, v in layers.items():
        print(f"exercise 3: {name}: sigma_2/sigma_1 {v['ratio']:.3f}, steps to 1e-3 {v['steps']}, "
              f"error after 1 step {v['error_1']:.1e}")
    fastest = min(("conv1", "conv2", "conv3", "conv4"), key=lambda k: layers[k]["steps"] or math.inf)
    print(f"exercise 3: fastest of conv1-4: {fastest} (the smallest ratio: "
          f"{min(('conv1', 'conv2', 'conv3', 'conv4'), key=lambda k: layers[k]['ratio'])}); conv5 is a 1-row matrix")

    # exercise 4: a plain D with non-zero biases, weights scaled by a = 1 and a = 4
    photos = InpaintingDataset(course_images("train"), size=size, train=False, seed=seed)
    real = torch.stack([photos[i].image for i in range(4)])
    plain = PatchDiscriminator(3, base_channels=cfg.disc_channels, use_spectral_norm=False).eval()

    def grad_norm(net: nn.Module) -> float:
        xr = real.clone().requires_grad_(True)
        logits, _ = net(xr)
        (g,) = torch.autograd.grad(logits.mean(dim=(1, 2, 3)).sum(), xr)
        return float(g.flatten(1).norm(dim=1).mean())

    growth = {}
    for bias in (0.0, 0.1):
        with torch.no_grad():
            for i in range(1, 6):
                getattr(plain, f"conv{i}")[0].bias.fill_(bias)
        weights = [getattr(plain, f"conv{i}")[0].weight for i in range(1, 6)]
        g1_ = grad_norm(plain)
        with torch.no_grad():
            for w in weights:
                w.mul_(4.0)
        growth[bias] = grad_norm(plain) / g1_
        with torch.no_grad():
            for w in weights:
                w.div_(4.0)
    print(f"exercise 4: a = 4 vs a = 1 multiplies the input gradient by {growth[0.0]:.1f} without biases, "
          f"{growth[0.1]:.1f} with biases 0.1 (4^5 = 1024)")

    # exercise 5: conv4 of the normalised D as a periodic operator on its input (size / 8 pixels per side)
    refresh_spectral_norm(D, iterations=long).eval()
    weight = D.conv4[0].weight.detach().double()  # (C_out, C_in, 4, 4), normalised
    n = size // 8
    spectrum = torch.fft.fft2(weight, s=(n, n))  # (C_out, C_in, n, n): the kernel's DFT per channel pair
    fft_norm = float(torch.linalg.svdvals(spectrum.permute(2, 3, 0, 1)).max())
    circular = lambda x: F.conv2d(F.pad(x, (1, 2, 1, 2), mode="circular"), weight)  # noqa: E731  n x n -> n x n
    power_norm = operator_norm(circular, (1, weight.shape[1], n, n), 300, gen)
    zero_padded = operator_norm(lambda x: F.conv2d(x, weight, padding=1), (1, weight.shape[1], n, n), 300, gen)
    print(f"exercise 5: conv4 on {n} x {n} periodic inputs: FFT {fft_norm:.4f}, power iteration {power_norm:.4f}; "
          f"zero padding (the network's) {zero_padded:.4f}; sigma(W_SN) = 1, bound ceil(k/s) = 4")
    return {"encoder_channels": enc_channels, "shapes": shapes, "receptive_field": r, "patches": patches,
            "layers": layers, "fastest": fastest, "growth": growth, "fft_norm": fft_norm, "power_norm": power_norm,
            "zero_padded_norm": zero_padded}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 64)
