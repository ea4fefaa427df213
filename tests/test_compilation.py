"""torch.compile where it pays (issue 22): the decision per device and setting, the fallbacks that never fail, the
wrappers that leave checkpoints alone, and a compiled pipeline equal to the eager one."""
from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch
from torch import nn

from edgeconnect_lib import compilation, models
from edgeconnect_lib.compilation import compile_plan
from edgeconnect_lib.config import get_config
from edgeconnect_lib.errors import ConfigError, UsageError
from edgeconnect_lib.networks import EdgeGenerator, InpaintGenerator
from edgeconnect_lib.pipeline import EdgeConnect


def test_auto_compiles_on_cuda_only_and_off_never(monkeypatch):
    assert not compile_plan("cpu", "off").enabled and "compile='off'" in compile_plan("cpu", "off").reason
    auto_cpu = compile_plan("cpu", "auto")
    assert not auto_cpu.enabled and "CUDA only" in auto_cpu.reason
    assert not compile_plan("mps", "on").enabled
    monkeypatch.setattr(compilation.importlib.util, "find_spec", lambda name: object())
    assert compile_plan("cuda", "auto").enabled  # a torch.device("cuda") needs no GPU to be described
    monkeypatch.setattr(compilation.importlib.util, "find_spec", lambda name: None)
    no_triton = compile_plan("cuda", "auto")
    assert not no_triton.enabled and "Triton" in no_triton.reason
    with pytest.raises(UsageError, match="compile='fast'"):
        compile_plan("cpu", "fast")


def test_on_a_cpu_without_a_cxx_compiler_it_stays_eager_with_one_note(monkeypatch):
    monkeypatch.setattr(compilation, "cxx_compiler", lambda: None)
    plan = compile_plan("cpu", "on")
    assert not plan.enabled and "C++ compiler" in plan.reason and "\n" not in plan.reason
    monkeypatch.setattr(compilation, "cxx_compiler", lambda: "/usr/bin/g++")
    assert compile_plan("cpu", "on").enabled


def test_cxx_compiler_honours_cxx(monkeypatch, tmp_path):
    monkeypatch.setenv("CXX", "no-such-compiler-here")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert compilation.cxx_compiler() is None
    fake = tmp_path / "my-c++"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CXX", "my-c++")
    assert compilation.cxx_compiler() == str(fake)


class _Wrapper(nn.Module):
    """Stands in for torch.compile's wrapper: the same module, called through another object."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.inner = module
        self.calls = 0

    def forward(self, *args, **kwargs):
        self.calls += 1
        return self.inner(*args, **kwargs)


def test_training_compiles_the_networks_a_step_calls_and_saves_the_plain_ones(monkeypatch):
    monkeypatch.setattr(compilation, "cxx_compiler", lambda: "/usr/bin/g++")
    monkeypatch.setattr(models, "compile_module", _Wrapper)
    cfg = get_config("tiny", stage="inpaint")
    model = models.build_model(cfg).setup("cpu", "off", False, "on")
    assert model.compile_plan.enabled
    assert all(isinstance(m, _Wrapper) for m in model.run.values())
    keys = set(model.G_inpaint.state_dict())
    assert not any(k.startswith("inner") or "_orig_mod" in k for k in keys)
    batch = (torch.rand(2, 3, 32, 32), torch.rand(2, 1, 32, 32), (torch.rand(2, 1, 32, 32) > 0.8).float(),
             (torch.rand(2, 1, 32, 32) > 0.5).float())
    model.train_step(batch)
    assert model.run["G_inpaint"].calls >= 1 and model.run["D_inpaint"].calls >= 1
    eager = models.build_model(cfg).setup("cpu", "off", False, "auto")  # auto on a CPU: eager
    assert not eager.compile_plan.enabled and all(not isinstance(m, _Wrapper) for m in eager.run.values())


def test_config_and_command_line_settings():
    assert get_config("course").compile == "auto"
    with pytest.raises(ConfigError, match="compile"):
        get_config("cpu", compile="yes")
    from edgeconnect_lib.__main__ import _config_from_args, build_parser

    args = build_parser().parse_args(["train", "--stage", "edge", "--data", "x", "--out", "y", "--no-compile"])
    assert _config_from_args(args).compile == "off"
    args = build_parser().parse_args(["train", "--stage", "edge", "--data", "x", "--out", "y", "--set", "compile=on"])
    assert _config_from_args(args).compile == "on"
    assert build_parser().parse_args(["inpaint", "--image", "a", "--mask", "b", "--out", "c",
                                      "--no-compile"]).no_compile


def _tiny_pipeline() -> EdgeConnect:
    torch.manual_seed(0)
    return EdgeConnect(EdgeGenerator(base_channels=8, residual_blocks=1),
                       InpaintGenerator(base_channels=8, residual_blocks=1, colour_reference=True))


def test_pipeline_compile_keeps_its_state_dict_and_runs_through_the_wrappers(monkeypatch):
    monkeypatch.setattr(compilation, "cxx_compiler", lambda: "/usr/bin/g++")
    import edgeconnect_lib.pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "compile_module", _Wrapper)
    pipe = _tiny_pipeline()
    keys = set(pipe.state_dict())
    rng = np.random.default_rng(0)
    image, hole = rng.random((24, 24, 3)), np.zeros((24, 24), bool)
    hole[8:16, 8:16] = True
    eager = pipe.inpaint(image, hole).image
    pipe.set_compile("on")
    assert pipe.compile_plan.enabled and set(pipe.state_dict()) == keys
    assert np.array_equal(pipe.inpaint(image, hole).image, eager)
    assert pipe._run["G_edge"].calls == 1 and pipe._run["G_inpaint"].calls == 1
    assert not pipe.set_compile("auto").compile_plan.enabled  # a CPU: eager again


def test_a_compiled_pipeline_equals_the_eager_one():
    """The real thing, on whatever this machine has: inductor's C++ backend when a compiler is found (tens of
    seconds to compile the tiny networks), else the eager fallback; the fill is the eager one within float
    reassociation either way."""
    pipe = _tiny_pipeline()
    rng = np.random.default_rng(1)
    image, hole = rng.random((32, 32, 3)), np.zeros((32, 32), bool)
    hole[10:22, 6:20] = True
    eager = pipe.inpaint(image, hole)
    pipe.set_compile("on")
    assert pipe.compile_plan.enabled == (compilation.cxx_compiler() is not None)
    compiled = pipe.inpaint(image, hole)
    assert np.abs(compiled.image - eager.image).max() < 1e-4
    assert np.array_equal(compiled.image[~hole], eager.image[~hole])
