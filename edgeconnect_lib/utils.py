"""Small helpers shared by every lesson: device choice and seeding."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

from .errors import UsageError

__all__ = ["pick_device", "seed_everything", "describe_device", "cpu_has_native_bf16"]


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """Return the device to run on.

    ``"auto"`` tries CUDA, then Apple's MPS, then the CPU. Any other string
    (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``) is checked and returned, with
    a clear error when that device is not available on this machine.
    """
    if isinstance(device, torch.device):
        device = str(device)
    name = str(device).strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(
            f"device={device!r}: CUDA is not available on this machine "
            "(torch.cuda.is_available() is False). Use device='auto' or 'cpu'."
        )
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise UsageError(f"device={device!r}: Apple MPS is not available here. Use 'auto' or 'cpu'.")
    try:
        return torch.device(name)
    except RuntimeError as err:
        raise UsageError(
            f"device={device!r} is not a device name; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'."
        ) from err


def describe_device(device: torch.device) -> str:
    """A one-line human description of ``device`` (GPU name for CUDA)."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def seed_everything(seed: int = 0, deterministic: bool = True) -> np.random.Generator:
    """Seed Python, NumPy and PyTorch; return a fresh ``numpy.random.Generator``.

    With ``deterministic=True`` PyTorch is asked to use deterministic kernels
    where it has them (``warn_only``, so ops without one still run).
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    return np.random.default_rng(seed)


def cpu_has_native_bf16() -> bool:
    """Whether oneDNN runs bfloat16 natively on this CPU (AVX512-BF16 or AMX).

    Without those instructions a bf16 convolution is emulated and slower than fp32, so the library's ``"auto"``
    precision picks bf16 autocast on the CPU only where this is True (``precision.Precision``).
    """
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
