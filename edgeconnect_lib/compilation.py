"""``torch.compile`` where it pays: when the training step and the inference pipeline are compiled, and why not.

``compile`` settings (:data:`~edgeconnect_lib.options.COMPILE_KINDS`):

* ``"auto"`` (the default): compile on CUDA (inductor's Triton kernels fuse the element-wise work around the
  convolutions); stay eager on a CPU, where inductor's C++ backend compiled the course networks for minutes and
  gave no faster step (the convolutions, most of a step, are oneDNN's either way: ``benchmarks/README.md``), and on
  MPS.
* ``"on"``: compile on any device. On a CPU, inductor needs a C++ compiler; without one (or without Triton on CUDA)
  the networks stay eager and :func:`compile_plan` says so in one line: it never fails.
* ``"off"``: eager everywhere (the command line's ``--no-compile``).

Compilation wraps the modules a step calls (``torch.compile`` returns a module sharing the parameters), so
checkpoints, state dicts and the numerics are those of the eager networks (within floating-point reassociation).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
from typing import NamedTuple

import torch
from torch import nn

from .errors import UsageError
from .options import COMPILE_KINDS

__all__ = ["CompilePlan", "compile_plan", "cxx_compiler", "compile_module"]


class CompilePlan(NamedTuple):
    """Whether to compile (``enabled``) and the one line that says why (``reason``)."""

    enabled: bool
    reason: str


def cxx_compiler() -> str | None:
    """The C++ compiler inductor's CPU backend would use: ``$CXX`` if set and found, else ``c++``, ``g++`` or
    ``clang++`` on the ``PATH``; ``None`` when there is none."""
    candidates = [os.environ["CXX"]] if os.environ.get("CXX") else []
    for name in candidates + ["c++", "g++", "clang++"]:
        found = shutil.which(name)
        if found:
            return found
    return None


def compile_plan(device: torch.device | str, kind: str = "auto") -> CompilePlan:
    """Decide whether to compile on ``device`` for the setting ``kind`` (see the module's docstring)."""
    if kind not in COMPILE_KINDS:
        raise UsageError(f"compile={kind!r}: choose one of {COMPILE_KINDS}")
    device = torch.device(device)
    if kind == "off":
        return CompilePlan(False, "eager (compile='off')")
    if kind == "auto" and device.type != "cuda":
        return CompilePlan(False, f"eager (compile='auto' compiles on CUDA only: on {device.type} it is no faster)")
    if not hasattr(torch, "compile"):
        return CompilePlan(False, f"eager (torch {torch.__version__} has no torch.compile)")
    if device.type == "mps":
        return CompilePlan(False, "eager (inductor does not compile for MPS here)")
    if device.type == "cuda" and importlib.util.find_spec("triton") is None:
        return CompilePlan(False, "eager (compile asked, but Triton is not installed: pip install triton)")
    if device.type == "cpu" and cxx_compiler() is None:
        return CompilePlan(False, "eager (compile asked, but no C++ compiler for inductor's CPU backend: install "
                                  "g++ or set CXX)")
    return CompilePlan(True, f"torch.compile (inductor, {device.type})")


def compile_module(module: nn.Module) -> nn.Module:
    """``torch.compile(module)``: the first calls compile (seconds to minutes), later calls run the compiled code.
    The returned module shares ``module``'s parameters; save and load ``module`` itself."""
    return torch.compile(module)
