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


def test_undistribute_frees_the_wrappers_before_the_group_is_destroyed(tmp_path):
    """A DDP wrapper freed only at interpreter exit, after its group, can abort the process (a CI run did)."""
    import gc
    import weakref

    from torch.nn.parallel import DistributedDataParallel as DDP

    from edgeconnect_lib.config import get_config
    from edgeconnect_lib.models import build_model

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        model = build_model(get_config("tiny", stage="joint", perceptual=0, style=0)).setup("cpu")
        model.distribute()
        wrappers = [weakref.ref(m) for m in model.run.values()]
        assert all(isinstance(w(), DDP) for w in wrappers)
        model.undistribute()
        gc.collect()
        assert all(w() is None for w in wrappers)  # freed now, while the group still exists
        assert set(model.run) == set(model.networks())
        assert all(model.run[name] is net for name, net in model.networks().items())
    finally:
        dist.destroy_process_group()
