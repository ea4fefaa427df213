"""Training throughput (images per second) of each stage, ours vs a straightforward authors'-style step.

For every stage (edge, inpaint, edge-inpaint, joint), size and device, this times

* **ours**: ``edgeconnect_lib.models`` as the trainer runs it: one discriminator pass over
  ``cat(real, fake)``, D's parameters frozen during the generator's pass through D, VGG19 run once per side
  for both perceptual and style losses (output and masked output stacked; target under ``no_grad``),
  bf16 autocast (fp16 + GradScaler where bf16 is missing) and channels-last memory on CUDA;
* **reference**: the authors' code written plainly in an order PyTorch 2 accepts: D run separately on real
  and fake, the generator's pass through a trainable D (gradients for D's weights computed and thrown away),
  VGG19 run separately for the perceptual loss (output, target) and the style loss (masked output, masked
  target), fp32, default memory format;

in the same process, on the same networks and batch, steps interleaved (ours, reference, ours, ...), and
prints one table of images per second (batch / median step time) with the ratio ours / reference. Both
steps fetch their losses to the host once per step, as a training loop logging them does.

    python benchmarks/train_step.py                      # CPU: a few minutes (paper size at 128 px, batch 4)
    python benchmarks/train_step.py --sizes 128x4 128x8 256x4 256x8 --reps 5   # the full CPU grid (slow)
    python benchmarks/train_step.py --device cuda        # on a GPU: the full grid by default
    python benchmarks/train_step.py --amp off            # ours in fp32 too: only the algorithmic gains
    python benchmarks/train_step.py --compile on         # ours compiled on a CPU too (minutes of compilation)

Every row also gives ours' achieved FLOP/s (the step's convolution and matrix FLOPs, counted once with
``torch.utils.flop_counter`` on the eager reference, times ours' images per second) and, on a GPU whose peak is known
(H100, H200, A100) or with ``--peak-tflops``, the model FLOP utilisation (MFU). ``--compile auto`` (the default,
the trainer's) compiles ours on CUDA only (``edgeconnect_lib.compilation``).

``--amp auto`` (the default) runs ours as the trainer does on CUDA (bf16, or fp16 with a scaler) and, on a CPU
with native bfloat16 instructions (AVX512-BF16 or AMX, as oneDNN reports), with bf16 autocast as
``--amp bf16`` would in training; the precision used is printed in every row.

Sizes are ``PIXELSxBATCH`` at the paper's network size (64 channels, 8 residual blocks); the row ``cpu``
is the ``cpu`` preset (64 px, batch 8, 16 channels, 2 blocks; it trains without the VGG19 losses, but both
sides here run them with the paper's weights, so the comparison is like for like).

The rows ``course preset`` compare the library's step with itself: the trainer's default today (``amp="auto"``:
bf16 autocast on a CPU with native bf16) against the eager fp32 step that the trainer ran on every CPU before
(``amp="off"``), with the ``course`` preset's own networks, crops, batch and losses (128 px, batch 8, 24 channels,
8 blocks, no VGG19), i.e. the recipe of the shipped checkpoints.

Where a step's time goes (``torch.profiler``, 2-core AMD EPYC Zen 4, paper size, 128 px, batch 4, edge stage):
convolutions 80% (backward 56%, forward 23%), dtype copies 4%, reflection padding 3%, instance normalisation 2.5%,
spectral norm's power iteration and Adam about 1% each; the inpaint stage adds VGG19 (convolutions again). Canny
and masks are made in the data loader (``bench_dataset.py``: about 5 ms per 128 px item, under 5% of a step) and
host syncs are one per step. The convolutions already run near this CPU's peak: 200-215 GFLOP/s in fp32 and
420-440 GFLOP/s in bf16 on G's 256-channel 3x3 convolutions (two cores, forward). So bf16 autocast, which halves
their cost, is the one large gain; fusing the rest (``torch.compile``: 2 min of compilation here, no faster step)
can win at most the element-wise 10%. A 3x step over the fp32 reference would need fewer multiply-adds than the
paper's networks do, not faster ones.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from edgeconnect_lib.config import get_config
from edgeconnect_lib.losses import (
    PERCEPTUAL_LAYERS,
    STYLE_LAYERS,
    discriminator_loss,
    feature_matching_loss,
    generator_adversarial_loss,
    gram_matrix,
    masked_l1,
)
from edgeconnect_lib.models import build_model, composite, mask_edge_input, mask_image_input
from edgeconnect_lib.networks import EdgeGenerator
from edgeconnect_lib.utils import cpu_has_native_bf16

STAGES = ("edge", "inpaint", "edge-inpaint", "joint")


# ------------------------------------------------------------------------------------------------------
# The reference step: the authors' code, plainly, in an order PyTorch 2 accepts
# ------------------------------------------------------------------------------------------------------
def _ref_vgg_losses(vgg, outputs, images, masks):
    """Perceptual and style losses with four separate VGG19 passes (authors' PerceptualLoss / StyleLoss)."""
    layers = tuple(dict.fromkeys(PERCEPTUAL_LAYERS + STYLE_LAYERS))
    fo, fi = vgg(outputs, layers), vgg(images, layers)
    perc = sum(F.l1_loss(fo[n], fi[n]) for n in PERCEPTUAL_LAYERS)
    fom, fim = vgg(outputs * masks, layers), vgg(images * masks, layers)
    style = sum(F.l1_loss(gram_matrix(fom[n]), gram_matrix(fim[n])) for n in STYLE_LAYERS)
    return perc, style


def reference_step(model, stage: str, x) -> list[float]:
    """One update of D then G(s) for ``stage``, written the straightforward way (fp32, no tricks)."""
    w = model.weights
    opts = model.optimizers
    if stage == "edge":
        G, D = model.G_edge, model.D_edge
        edges_pred = G(mask_edge_input(x.gray, x.edges, x.masks))
        real, fake = torch.cat((x.gray, x.edges), 1), torch.cat((x.gray, edges_pred), 1)
        real_logits, real_feats = D(real)
        fake_logits, _ = D(fake.detach())
        loss_D = discriminator_loss(real_logits, fake_logits, w.gan)
        opts["D_edge"].zero_grad()
        loss_D.backward()
        opts["D_edge"].step()
        g_logits, g_feats = D(fake)  # D stays trainable: its weight gradients are computed too
        loss_G = w.edge_adv * generator_adversarial_loss(g_logits, w.gan) + w.edge_fm * feature_matching_loss(
            [f.detach() for f in real_feats], g_feats)
        opts["G_edge"].zero_grad()
        loss_G.backward()
        opts["G_edge"].step()
        return [loss_D.item(), loss_G.item()]

    G, D = model.G_inpaint, model.D_inpaint
    if stage == "inpaint":
        edges = x.edges
    elif stage == "edge-inpaint":
        with torch.no_grad():
            edges = composite(model.G_edge(mask_edge_input(x.gray, x.edges, x.masks)), x.edges, x.masks)
    else:
        edges = composite(model.G_edge(mask_edge_input(x.gray, x.edges, x.masks)), x.edges, x.masks)
    outputs = G(mask_image_input(x.images, edges, x.masks))
    real_logits, _ = D(x.images)
    fake_logits, _ = D(outputs.detach())
    loss_D = discriminator_loss(real_logits, fake_logits, w.gan)
    opts["D_inpaint"].zero_grad()
    loss_D.backward()
    opts["D_inpaint"].step()
    g_logits, _ = D(outputs)
    perc, style = _ref_vgg_losses(model.perceptual_style.vgg, outputs, x.images, x.masks)
    loss_G = (w.l1 * masked_l1(outputs, x.images, x.masks) + w.inpaint_adv * generator_adversarial_loss(g_logits, w.gan)
              + w.perceptual * perc + w.style * style)
    g_opts = [opts["G_inpaint"]] + ([opts["G_edge"]] if stage == "joint" else [])
    for o in g_opts:
        o.zero_grad()
    loss_G.backward()
    for o in g_opts:
        o.step()
    return [loss_D.item(), loss_G.item()]


# ------------------------------------------------------------------------------------------------------
# Timing
# ------------------------------------------------------------------------------------------------------
@dataclass
class Row:
    device: str
    size: str
    stage: str
    ours: float
    ref: float
    precision: str = "fp32"
    against: str = "reference, fp32"
    flops: float = float("nan")  # multiply-adds x 2 of one step per image (forward and backward, both networks)
    peak: float | None = None    # the device's peak FLOP/s for ours' precision, when known

    @property
    def achieved(self) -> float:
        """FLOP/s of our step: FLOPs per image x images per second."""
        return self.flops * self.ours

    @property
    def mfu(self) -> float | None:
        """Model FLOP utilisation of our step: achieved / peak (None when the peak is not known)."""
        return self.achieved / self.peak if self.peak else None

    @property
    def ratio(self) -> float:
        return self.ours / self.ref if self.ref > 0 else float("nan")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _batch(b: int, s: int, device: torch.device):
    from edgeconnect_lib.models import Batch

    g = torch.Generator().manual_seed(0)
    images = torch.rand(b, 3, s, s, generator=g)
    gray = images.mean(1, keepdim=True)
    edges = (torch.rand(b, 1, s, s, generator=g) > 0.85).float()
    masks = torch.zeros(b, 1, s, s)
    masks[:, :, s // 4: 3 * s // 4, s // 4: 3 * s // 4] = 1
    return Batch(images, gray, edges, masks)


def _build(stage: str, cfg, device, amp: str, channels_last: bool, compile: str = "off"):
    edge = EdgeGenerator(cfg.base_channels, cfg.residual_blocks) if stage in ("edge-inpaint", "joint") else None
    return build_model(cfg, edge).setup(device, amp=amp, channels_last=channels_last, compile=compile)


def step_flops(fn) -> float:
    """FLOPs of one call of ``fn`` (a training step), counted by ``torch.utils.flop_counter`` on the eager
    reference: convolutions and matrix products, forward and backward (the same count for ours: same networks)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return float(counter.get_total_flops())


#: Dense peak FLOP/s by GPU name and precision (vendor data sheets; SXM parts); a CPU's peak is not guessed.
PEAK_FLOPS = {("H100", "bf16"): 989e12, ("H100", "fp16"): 989e12, ("H100", "fp32"): 67e12,
              ("H200", "bf16"): 989e12, ("H200", "fp16"): 989e12, ("H200", "fp32"): 67e12,
              ("A100", "bf16"): 312e12, ("A100", "fp16"): 312e12, ("A100", "fp32"): 19.5e12}


def peak_flops(device: torch.device, precision: str, given_tflops: float | None = None) -> float | None:
    """The peak for the MFU column: ``--peak-tflops`` if given, else :data:`PEAK_FLOPS` for a known GPU."""
    if given_tflops:
        return given_tflops * 1e12
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    mode = {"off": "fp32", "auto": "bf16" if torch.cuda.is_bf16_supported() else "fp16"}.get(precision, precision)
    return next((v for (gpu, p), v in PEAK_FLOPS.items() if gpu in name and p == mode), None)


def _step_times(fns, warmup: int, reps: int, device) -> list[list[float]]:
    """Seconds per step of each function, the functions interleaved (ours, reference, ours, ...), so that a
    change in the machine's load hits both alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(reps):
        for i, fn in enumerate(fns):
            _sync(device)
            t0 = time.perf_counter()
            fn()
            _sync(device)
            times[i].append(time.perf_counter() - t0)
    return times


def resolve_amp(amp: str, device: torch.device) -> str:
    """The precision of our step: ``auto`` is the trainer's choice on CUDA, bf16 on a CPU with native bf16."""
    if amp != "auto":
        return amp
    if device.type == "cpu":
        return "bf16" if cpu_has_native_bf16() else "off"
    return "auto"


def measure(stage: str, pixels: int, batch: int, device: torch.device, warmup: int, reps: int,
            preset: str = "paper", amp: str = "auto", compile: str = "auto") -> tuple[float, float, float]:
    """Images per second of (ours, reference) for one stage and size (batch / median seconds per step), and the
    FLOPs of one step per image."""
    cfg = get_config(preset, stage=stage, image_size=pixels, batch_size=batch, perceptual=0.1, style=250.0)
    torch.manual_seed(0)
    # channels-last helps cuDNN; on the CPU it measured slower here, so ours keeps the default layout there
    ours = _build(stage, cfg, device, resolve_amp(amp, device), device.type == "cuda", compile)
    torch.manual_seed(0)
    ref = _build(stage, cfg, device, "off", False)
    ref.train()
    if stage == "edge-inpaint":
        ref.G_edge.eval()
    x_cpu = _batch(batch, pixels, device)
    x_ref = ref._batch(x_cpu)
    flops = step_flops(lambda: reference_step(ref, stage, x_ref)) / batch
    t_ours, t_ref = _step_times([lambda: ours.train_step(x_cpu), lambda: reference_step(ref, stage, x_ref)],
                                warmup, reps, device)
    del ours, ref
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return batch / statistics.median(t_ours), batch / statistics.median(t_ref), flops


def measure_course(stage: str, device: torch.device, warmup: int, reps: int, amp: str = "auto",
                   compile: str = "auto") -> tuple[float, float, float]:
    """Images per second of the library's step with the ``course`` preset: (optimised, eager fp32), and the FLOPs
    of one step per image."""
    cfg = get_config("course", stage=stage)
    torch.manual_seed(0)
    fast = _build(stage, cfg, device, amp, device.type == "cuda", compile)
    torch.manual_seed(0)
    eager = _build(stage, cfg, device, "off", False)
    x = _batch(cfg.batch_size, cfg.image_size, device)
    flops = step_flops(lambda: eager.train_step(x)) / cfg.batch_size
    t_fast, t_eager = _step_times([lambda: fast.train_step(x), lambda: eager.train_step(x)], warmup, reps, device)
    del fast, eager
    return cfg.batch_size / statistics.median(t_fast), cfg.batch_size / statistics.median(t_eager), flops


def _flops_text(row: Row) -> str:
    text = f"{row.achieved / 1e9:.0f} GFLOP/s"
    return text + (f" (MFU {100 * row.mfu:.1f}%)" if row.mfu is not None else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", help="auto (CPU, plus CUDA when present) | cpu | cuda")
    parser.add_argument("--sizes", nargs="*", default=None,
                        help="PIXELSxBATCH at the paper's network size (default: CPU 128x4; CUDA 128x4 128x8 256x4 256x8)")
    parser.add_argument("--stages", nargs="*", default=list(STAGES), choices=STAGES)
    parser.add_argument("--reps", type=int, default=None, help="timed steps of each side (default: CPU 2, CUDA 20)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default: CPU 1, CUDA 5)")
    parser.add_argument("--no-cpu-preset", action="store_true", help="skip the row of the cpu preset")
    parser.add_argument("--no-course-preset", action="store_true",
                        help="skip the rows of the course preset (optimised vs eager fp32)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--amp", default="auto", choices=("auto", "off", "bf16", "fp16"),
                        help="precision of OUR step (the reference is always fp32); auto: the trainer's choice on "
                             "CUDA, bf16 on a CPU with native bf16, else fp32")
    parser.add_argument("--compile", default="auto", choices=("auto", "on", "off"),
                        help="torch.compile of OUR step (compilation.compile_plan; auto: on CUDA only)")
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="the device's peak TFLOP/s for ours' precision, for the MFU column (default: known GPUs)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="ImageNet VGG19 weights not found")
    if args.threads:
        torch.set_num_threads(args.threads)

    if args.device == "auto":
        devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    else:
        devices = [torch.device(args.device)]
    rows: list[Row] = []
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}, "
          f"CUDA {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'absent'}", flush=True)
    for device in devices:
        cuda = device.type == "cuda"
        if cuda:
            torch.backends.cudnn.benchmark = True  # for both sides
        sizes = args.sizes or (["128x4", "128x8", "256x4", "256x8"] if cuda else ["128x4"])
        reps = args.reps or (20 if cuda else 2)
        warmup = args.warmup if args.warmup is not None else (5 if cuda else 1)
        grid = [("paper", *map(int, s.lower().split("x"))) for s in sizes]
        if not args.no_cpu_preset:
            grid.append(("cpu", 64, 8))
        for preset, pixels, batch in grid:
            for stage in args.stages:
                t0 = time.perf_counter()
                ours, ref, flops = measure(stage, pixels, batch, device, warmup, reps, preset, args.amp, args.compile)
                label = f"{pixels}px x{batch}" + (" (cpu preset)" if preset == "cpu" else "")
                amp = resolve_amp(args.amp, device)
                precision = {"off": "fp32", "auto": "amp (trainer's choice)"}.get(amp, amp)
                rows.append(Row(str(device), label, stage, ours, ref, precision, flops=flops,
                                peak=peak_flops(device, amp, args.peak_tflops)))
                print(f"  {device} {label:<22} {stage:<13} ours ({precision}) {ours:8.2f} img/s  reference (fp32) "
                      f"{ref:8.2f} img/s  x{rows[-1].ratio:.2f}  {_flops_text(rows[-1])}  "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
        if not args.no_course_preset:
            for stage in args.stages:
                t0 = time.perf_counter()
                fast, eager, flops = measure_course(stage, device, warmup, max(reps, 3), args.amp, args.compile)
                amp = resolve_amp(args.amp, device)
                precision = {"off": "fp32", "auto": "amp (trainer's choice)"}.get(amp, amp)
                rows.append(Row(str(device), "128px x8 (course preset)", stage, fast, eager, precision, "eager fp32",
                                flops=flops, peak=peak_flops(device, amp, args.peak_tflops)))
                print(f"  {device} course preset          {stage:<13} optimised ({precision}) {fast:8.2f} img/s  eager fp32 "
                      f"{eager:8.2f} img/s  x{rows[-1].ratio:.2f}  {_flops_text(rows[-1])}  "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)

    print("\n| device | size | stage | ours: precision | ours (img/s) | against | against (img/s) | ratio | "
          "ours: GFLOP/s | MFU |")
    print("|---|---|---|---|---:|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r.device} | {r.size} | {r.stage} | {r.precision} | {r.ours:.2f} | {r.against} | {r.ref:.2f} | "
              f"{r.ratio:.2f}x | {r.achieved / 1e9:.0f} | {'-' if r.mfu is None else f'{100 * r.mfu:.1f}%'} |")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
