"""Mixed precision for training and inference: bf16 / fp16 autocast, loss scaling, and spectral norm kept in fp32.

:class:`Precision` is what both the trainable models (:mod:`edgeconnect_lib.models`) and the inference pipeline
(:class:`edgeconnect_lib.pipeline.EdgeConnect`, ``set_precision``) use; :func:`spectral_norm_outside_autocast`
keeps the power iteration of the paper's spectral-normalised layers (Miyato et al. 2018, used by EdgeConnect's
discriminators and G_edge) in fp32 under autocast.
"""
from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import nn

from .errors import UsageError

__all__ = ["Precision", "spectral_norm_outside_autocast"]


class Precision:
    """Autocast and loss scaling for one device.

    ``amp``: ``"off"`` (fp32), ``"bf16"`` (autocast to bfloat16, no scaling needed), ``"fp16"`` (autocast
    to float16 with a ``GradScaler``) or ``"auto"``: bf16 on a CUDA GPU that supports it, else fp16 on CUDA;
    bf16 on a CPU with native bf16 instructions (AVX512-BF16 or AMX: there the convolutions run faster in bf16 than in fp32; the measured figures
    are in ``benchmarks/README.md``); fp32 on other CPUs (bf16 would be emulated,
    slower) and on MPS. ``reason`` says which and why, for the one line a trainer prints.

    Autocast keeps the weights, the optimiser and the losses' reductions in fp32; only the convolutions' inputs
    and weights are rounded to bf16 (8 significant bits), as in mixed-precision training on GPUs.
    """

    def __init__(self, device: torch.device, amp: str = "auto") -> None:
        from .utils import cpu_has_native_bf16

        device = torch.device(device)
        asked = amp
        if amp == "auto":
            amp = "off"
            if device.type == "cuda":
                amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
            elif device.type == "cpu" and cpu_has_native_bf16():
                amp = "bf16"
        if amp not in ("off", "bf16", "fp16"):
            raise UsageError(f"amp={amp!r}: choose 'auto', 'off', 'bf16' or 'fp16'")
        if amp == "fp16" and device.type != "cuda":
            raise UsageError(f"amp='fp16' needs a CUDA device (got {device.type}); use 'bf16' or 'off'")
        self.device, self.mode = device, amp
        # the precision and, when it was chosen by "auto", why (the one line a trainer or the CLI prints)
        if asked != "auto":
            self.reason = amp
        elif device.type == "cpu":
            self.reason = (f"{amp} (auto: this CPU has native bf16)" if amp == "bf16" else
                           f"{amp} (auto: this CPU has no native bf16, where bf16 would be emulated and slower)")
        else:
            self.reason = f"{amp} (auto on {device.type})"
        self.dtype = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]
        self.scaler = torch.amp.GradScaler("cuda") if amp == "fp16" else None

    def autocast(self):
        """A context running the forward pass in the chosen precision."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def backward_step(self, loss: torch.Tensor, *optimizers: torch.optim.Optimizer) -> None:
        """``loss.backward()`` then ``step()`` of each optimiser (scaled with fp16)."""
        if self.scaler is None:
            loss.backward()
            for opt in optimizers:
                opt.step()
        else:
            self.scaler.scale(loss).backward()
            for opt in optimizers:
                self.scaler.step(opt)

    def update(self) -> None:
        """End of the iteration: adjust the loss scale once (fp16 only)."""
        if self.scaler is not None:
            self.scaler.update()


class _SpectralNormInFullPrecision:
    """Runs a legacy spectral-norm hook with autocast switched off.

    Under CUDA autocast ``torch.mv`` runs in bf16/fp16 while ``torch.dot`` does not cast, so the hook's
    ``sigma = dot(u, mv(W, v))`` would mix float32 and bfloat16 and fail; the power iteration is also better
    kept in float32. The convolution that follows still runs in the autocast precision.
    """

    def __init__(self, hook, device_type: str) -> None:
        self.hook, self.device_type = hook, device_type

    def __getattr__(self, name: str):  # behave like the wrapped hook (name, eps, ...)
        return getattr(self.hook, name)

    def __call__(self, module: nn.Module, inputs: Any) -> None:
        with torch.autocast(self.device_type, enabled=False):
            return self.hook(module, inputs)


def spectral_norm_outside_autocast(module: nn.Module, device_type: str) -> nn.Module:
    """Wrap every legacy spectral-norm hook in ``module`` with :class:`_SpectralNormInFullPrecision`."""
    from torch.nn.utils.spectral_norm import SpectralNorm

    for m in module.modules():
        for key, hook in list(m._forward_pre_hooks.items()):
            if isinstance(hook, SpectralNorm):
                m._forward_pre_hooks[key] = _SpectralNormInFullPrecision(hook, device_type)
            elif isinstance(hook, _SpectralNormInFullPrecision):
                hook.device_type = device_type
    return module
