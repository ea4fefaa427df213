"""DistributedDataParallel: two CPU processes (Gloo) launched by torchrun, as on a multi-GPU machine.

Checks that a run finishes, that rank 0 alone writes, and that both ranks end with identical weights and
spectral-norm buffers after the two-optimiser step (D step, then G step through a frozen D).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch.distributed as dist
from PIL import Image

from edgeconnect_lib.train import list_checkpoints, load_checkpoint

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="torch.distributed with Gloo is not available")


def _torchrun() -> list[str]:
    exe = Path(sys.executable).with_name("torchrun")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "torch.distributed.run"]


@pytest.mark.parametrize("stage", ["edge", "joint"])
def test_two_process_gloo_run_keeps_ranks_identical(tmp_path, stage):
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        Image.fromarray((rng.random((40, 40, 3)) * 255).astype(np.uint8)).save(photos / f"p{i}.png")
    out = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    cmd = _torchrun() + ["--standalone", "--nproc_per_node", "2", "-m", "edgeconnect_lib", "train",
                         "--stage", stage, "--preset", "tiny", "--data", str(photos), "--out", str(out),
                         "--iterations", "3", "--device", "cpu", "--set", "perceptual=0", "--set", "style=0"]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[:3000] + "\n[...]\n" + log[-1500:]  # the ranks' own errors come first
    assert "batch 2 x 2" in log  # two processes, each with its own batch
    assert "identical on all 2 ranks: True" in log
    assert log.count("done: ") == 1  # rank 0 alone reports and writes
    assert load_checkpoint(out)["iteration"] == 3
    assert [p.name for p in list_checkpoints(out)] == ["ckpt_00000002.pt", "ckpt_00000003.pt"]
