"""config.py + train.py: presets, the training loop, checkpoints, exact resume, a killed run, divergence."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from edgeconnect_lib import train as train_mod
from edgeconnect_lib.config import PRESETS, TrainConfig, get_config, preset_table
from edgeconnect_lib.models import NonFiniteLossError
from edgeconnect_lib.train import (
    Trainer,
    TrainingDiverged,
    atomic_save,
    evaluate,
    list_checkpoints,
    load_checkpoint,
    load_or_train,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """Six small synthetic photos (stripes + noise), different sizes."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(6):
        h, w = 40 + 4 * i, 48
        y, x = np.mgrid[0:h, 0:w]
        img = np.stack([np.sin(x / (3 + i)) * 0.5 + 0.5, np.cos(y / (4 + i)) * 0.5 + 0.5, ((x + y) % 12 < 6) * 1.0], -1)
        Image.fromarray((img * 200 + rng.random((h, w, 3)) * 55).astype(np.uint8)).save(folder / f"p{i}.png")
    return folder


def tiny(stage: str = "edge", **kw) -> TrainConfig:
    kw.setdefault("perceptual", 0.0)
    kw.setdefault("style", 0.0)
    return get_config("tiny", stage=stage, **kw)


# ----------------------------------------------------------------------------------------------------
# config
# ----------------------------------------------------------------------------------------------------
def test_paper_preset_has_the_paper_values():
    p = PRESETS["paper"]
    assert (p.image_size, p.batch_size, p.lr, p.d2g_lr, p.beta1, p.beta2) == (256, 8, 1e-4, 0.1, 0.0, 0.9)
    assert (p.base_channels, p.residual_blocks, p.joint_lr, p.sigma) == (64, 8, 1e-6, 2.0)
    assert (p.edge_adv, p.edge_fm, p.l1, p.inpaint_adv, p.perceptual, p.style, p.gan) == (1, 10, 1, 0.1, 0.1, 250, "nsgan")


def test_unknown_keys_rejected_everywhere():
    with pytest.raises(ValueError, match="did you mean 'batch_size'"):
        get_config("cpu", batchsize=4)
    with pytest.raises(ValueError, match="unknown config key"):
        PRESETS["cpu"].replace(colour=1)
    with pytest.raises(ValueError, match="unknown config key"):
        TrainConfig.from_dict({"stage": "edge", "nope": 1})
    with pytest.raises(ValueError, match="preset"):
        get_config("gpu")


def test_config_values_checked_and_frozen():
    with pytest.raises(ValueError, match="stage"):
        get_config("cpu", stage="1")
    with pytest.raises(ValueError, match="divisible by 4"):
        get_config("cpu", image_size=30)
    with pytest.raises(Exception):
        PRESETS["cpu"].lr = 1.0  # frozen dataclass
    cfg = get_config("cpu", lr_milestones=[10, 20])
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_preset_table_lists_presets():
    table = preset_table()
    assert "| field" in table and "paper" in table and "cpu" in table and "2,000,000" in table


# ----------------------------------------------------------------------------------------------------
# training, logs, checkpoints
# ----------------------------------------------------------------------------------------------------
def test_fit_writes_logs_samples_and_checkpoints(photos, tmp_path):
    cfg = tiny("edge", iterations=5, save_every=2, keep_last=2, val_every=5, sample_every=5)
    result = Trainer(cfg, photos, tmp_path, verbose=False).fit()
    assert result.iteration == 5
    ckpts = list_checkpoints(tmp_path)
    assert [p.name for p in ckpts] == ["ckpt_00000004.pt", "ckpt_00000005.pt"]  # the last keep_last
    assert result.checkpoint == ckpts[-1]
    assert not list((tmp_path / "checkpoints").glob("*.tmp"))
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert [int(r["iteration"]) for r in rows] == [1, 2, 3, 4, 5]
    assert {"loss_D", "loss_G", "precision", "recall", "lr"} <= set(rows[0])
    assert {"precision", "recall", "f1"} <= set(result.val)
    assert (tmp_path / "samples" / "iter_00000005.png").is_file()
    assert (tmp_path / "config.json").is_file()


def test_checkpoint_holds_everything_and_loads_weights_only(photos, tmp_path):
    Trainer(tiny("inpaint", iterations=2, amp="off"), photos, tmp_path, verbose=False).fit()
    path = list_checkpoints(tmp_path)[-1]
    raw = torch.load(path, map_location="cpu", weights_only=True)  # must not need weights_only=False
    assert raw["iteration"] == 2 and raw["stage"] == "inpaint"
    assert set(raw["networks"]) == {"G_inpaint", "D_inpaint"} == set(raw["optimizers"])
    assert {"python", "numpy", "torch"} <= set(raw["rng"])
    assert isinstance(raw["config"], dict) and TrainConfig.from_dict(raw["config"]).stage == "inpaint"
    assert any(k.endswith("weight_u") for k in raw["networks"]["D_inpaint"])  # spectral-norm buffers kept


def test_export_weights_keeps_the_networks_and_drops_the_training_state(photos, tmp_path):
    from edgeconnect_lib.train import export_weights

    Trainer(tiny("inpaint", iterations=2, amp="off"), photos, tmp_path / "run", verbose=False).fit()
    out = export_weights(tmp_path / "run", tmp_path / "weights.pt")
    full, small = load_checkpoint(tmp_path / "run"), load_checkpoint(out)
    assert "optimizers" not in small and "rng" not in small and small["iteration"] == 2
    assert out.stat().st_size < list_checkpoints(tmp_path / "run")[-1].stat().st_size
    for name in ("G_inpaint", "D_inpaint"):
        for key, value in full["networks"][name].items():
            assert torch.equal(value, small["networks"][name][key])
    model = load_or_train(tiny("inpaint", iterations=2), out, photos).model  # loads, does not train
    assert torch.equal(model.G_inpaint.state_dict()["encoder.1.weight"], full["networks"]["G_inpaint"]["encoder.1.weight"])


def test_export_weights_in_half_precision_loads_into_float32_networks(photos, tmp_path):
    from edgeconnect_lib.train import export_weights

    Trainer(tiny("edge", iterations=2, amp="off"), photos, tmp_path / "run", verbose=False).fit()
    full_file, half_file = export_weights(tmp_path / "run", tmp_path / "w.pt"), export_weights(tmp_path / "run", tmp_path / "h.pt", half=True)
    assert half_file.stat().st_size < 0.6 * full_file.stat().st_size
    full, half = load_checkpoint(full_file), load_checkpoint(half_file)
    assert half["extra"]["stored_as"] == "float16"
    model = load_or_train(tiny("edge", iterations=2), half_file, photos).model  # loads, does not train
    for key, value in model.G_edge.state_dict().items():
        assert value.dtype == torch.float32
        assert torch.allclose(value, full["networks"]["G_edge"][key], rtol=2**-10, atol=1e-7)
    resumed = Trainer(tiny("edge", iterations=3, amp="off"), photos, tmp_path / "more", resume=half_file, verbose=False)
    assert resumed.iteration == 2 and resumed.fit().iteration == 3  # a fine-tune continues from the half file


def test_resume_gives_the_same_run(photos, tmp_path):
    cfg = tiny("inpaint", iterations=6, save_every=3, val_every=3, val_images=2)
    Trainer(cfg, photos, tmp_path / "a", verbose=False).fit()
    Trainer(cfg, photos, tmp_path / "b", verbose=False).fit(3)
    resumed = Trainer(cfg, photos, tmp_path / "b", resume=True, verbose=False)
    assert resumed.iteration == 3
    resumed.fit()
    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    for net in a["networks"]:
        for key, value in a["networks"][net].items():
            assert torch.equal(value, b["networks"][net][key]), f"{net}.{key} differs after resume"
    cols = ("iteration", "loss_D", "loss_G", "loss_G_l1", "psnr")
    rows = lambda d: [tuple(r[c] for c in cols) for r in csv.DictReader((d / "log.csv").open())]  # noqa: E731
    assert rows(tmp_path / "a") == rows(tmp_path / "b")


def test_resume_refuses_another_architecture(photos, tmp_path):
    Trainer(tiny("edge", iterations=2), photos, tmp_path, verbose=False).fit()
    with pytest.raises(ValueError, match="base_channels"):
        Trainer(tiny("edge", iterations=4, base_channels=16), photos, tmp_path, resume=True, verbose=False)


def test_a_fresh_run_refuses_a_folder_with_checkpoints(photos, tmp_path):
    Trainer(tiny("edge", iterations=2), photos, tmp_path, verbose=False).fit()
    with pytest.raises(ValueError, match="resume"):
        Trainer(tiny("edge", iterations=2), photos, tmp_path, verbose=False)
    # resuming a checkpoint of another run into it would mix two runs as well (runs.RunFolder, as InGAN)
    Trainer(tiny("edge", iterations=2), photos, tmp_path / "other", verbose=False).fit()
    with pytest.raises(ValueError, match="would mix two runs"):
        Trainer(tiny("edge", iterations=4), photos, tmp_path, resume=tmp_path / "other", verbose=False)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt_00000002.pt"]


def test_atomic_save_keeps_the_old_file_when_a_write_fails(tmp_path, monkeypatch):
    path = tmp_path / "ckpt_00000001.pt"
    atomic_save({"networks": {}, "x": torch.ones(2)}, path)

    def broken_save(obj, f, *a, **k):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(train_mod.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        atomic_save({"networks": {}, "x": torch.zeros(2)}, path)
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["x"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_divergence_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(photos, tmp_path, monkeypatch):
    trainer = Trainer(tiny("edge", iterations=6, save_every=2), photos, tmp_path, verbose=False)
    real_step = trainer.model.train_step
    calls = {"n": 0}

    def step(batch):
        calls["n"] += 1
        if calls["n"] == 3:
            raise NonFiniteLossError("loss_G_fm", float("nan"))
        return real_step(batch)

    monkeypatch.setattr(trainer.model, "train_step", step)
    with pytest.raises(TrainingDiverged, match=r"loss_G_fm became nan at iteration 3") as info:
        trainer.fit()
    assert info.value.last_checkpoint.name == "ckpt_00000002.pt"
    assert load_checkpoint(tmp_path)["iteration"] == 2


def test_lr_milestones_step_the_learning_rate(photos, tmp_path):
    cfg = tiny("edge", iterations=4, lr=1e-3, lr_milestones=(2, 3))
    Trainer(cfg, photos, tmp_path, verbose=False).fit()
    lrs = [float(r["lr"]) for r in csv.DictReader((tmp_path / "log.csv").open())]
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-4, 1e-5])


def test_too_few_photos_for_the_batch(photos, tmp_path):
    with pytest.raises(ValueError, match="batch_size"):
        Trainer(tiny("edge", batch_size=8), photos, tmp_path, verbose=False)


def test_edge_inpaint_from_an_edge_run_and_load_or_train(photos, tmp_path):
    Trainer(tiny("edge", iterations=2), photos, tmp_path / "edge", verbose=False).fit()
    cfg = tiny("edge-inpaint", iterations=2)
    first = load_or_train(cfg, tmp_path / "ei.pt", photos, edge_checkpoint=tmp_path / "edge")
    assert first.trained and first.checkpoint.is_file()
    second = load_or_train(cfg, tmp_path / "ei.pt", photos)
    assert not second.trained and "loaded" in second.message
    for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.equal(a.cpu(), b.cpu())
    from edgeconnect_lib.data import InpaintingDataset

    val = evaluate(second.model, InpaintingDataset(photos, size=32, train=False), limit=2)
    assert {"psnr", "ssim", "l1", "precision", "recall"} <= set(val)


# ----------------------------------------------------------------------------------------------------
# issue 12: resume past a bad checkpoint, bad photos up front, file modes, time and settings on resume
# ----------------------------------------------------------------------------------------------------
def test_resume_falls_back_to_the_newest_readable_checkpoint(photos, tmp_path):
    cfg = tiny("edge", iterations=4, save_every=2, keep_last=1)
    Trainer(cfg, photos, tmp_path, verbose=False).fit()
    latest = list_checkpoints(tmp_path)[-1]
    good = tmp_path / "checkpoints" / "ckpt_00000002.pt"
    atomic_save(load_checkpoint(latest) | {"iteration": 2}, good)  # an intact older one
    latest.write_bytes(latest.read_bytes()[:200])  # the latest cut short (a full disk, a crash mid-copy)
    resumed = Trainer(cfg.replace(iterations=6), photos, tmp_path, resume=True, verbose=False)
    assert resumed.iteration == 2
    assert any(f"skipped unreadable checkpoint {latest}" in line for line in resumed.log_lines)
    assert not latest.exists() and latest.with_name(latest.name + ".unreadable").is_file()  # kept, out of the rotation
    resumed.fit()  # keep_last=1 prunes: the good checkpoints survive, the unreadable file never counts
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt_00000006.pt"]


def test_resume_with_nothing_readable_says_what_to_do(photos, tmp_path):
    Trainer(tiny("edge", iterations=2), photos, tmp_path, verbose=False).fit()
    only = list_checkpoints(tmp_path)[-1]
    only.write_bytes(b"")
    with pytest.raises(ValueError, match=r"none of the 1 checkpoint\(s\).*resume=PATH"):
        Trainer(tiny("edge", iterations=4), photos, tmp_path, resume=True, verbose=False)


def test_bad_photos_are_found_before_training(photos, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for p in photos.iterdir():
        (data / p.name).write_bytes(p.read_bytes())
    (data / "zz_cut.png").write_bytes((photos / "p0.png").read_bytes()[:80])
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(data / "zz_small.png")
    with pytest.raises(ValueError, match=r"2 of the 8 photos.*zz_cut\.png.*zz_small\.png.*on_error='skip'"):
        Trainer(tiny("edge", iterations=2), data, tmp_path / "r", verbose=False)
    trainer = Trainer(tiny("edge", iterations=2, on_error="skip"), data, tmp_path / "r", verbose=False)
    assert len(trainer.train_set) == 6 and [p.name for p in trainer.train_set.skipped] == ["zz_cut.png", "zz_small.png"]
    assert any("skipped 2 training photo(s)" in line for line in trainer.log_lines)
    trainer.fit()
    with pytest.raises(ValueError, match="on_error"):
        tiny("edge", on_error="ignore")


def test_checkpoints_get_the_usual_file_mode(photos, tmp_path):
    Trainer(tiny("edge", iterations=1), photos, tmp_path, verbose=False).fit()
    umask = os.umask(0)
    os.umask(umask)
    assert list_checkpoints(tmp_path)[-1].stat().st_mode & 0o777 == 0o666 & ~umask  # 0o644, not mkstemp's 0o600


def test_resume_continues_the_time_and_names_changed_settings(photos, tmp_path):
    cfg = tiny("edge", iterations=2, save_every=2, lr=1e-3)
    Trainer(cfg, photos, tmp_path, verbose=False).fit()
    at_ckpt = load_checkpoint(tmp_path)["seconds"]
    assert at_ckpt > 0
    resumed = Trainer(cfg.replace(iterations=4, lr=5e-4, beta1=0.5), photos, tmp_path, resume=True, verbose=False)
    notice = next(line for line in resumed.log_lines if line.startswith("notice:"))
    assert "lr 0.001 -> 0.0005" in notice and "beta1 0.0 -> 0.5" in notice and "iterations 2 -> 4" in notice
    resumed.fit()
    assert resumed.model.optimizers["G_edge"].param_groups[0]["betas"] == (0.5, 0.9)  # the new betas are used
    secs = [float(r["seconds"]) for r in csv.DictReader((tmp_path / "log.csv").open())]
    assert len(secs) == 4 and secs[2] >= at_ckpt and secs == sorted(secs)  # no restart at 0



def test_resume_names_a_setting_the_older_checkpoint_did_not_have(photos, tmp_path):
    """A checkpoint written before a config key existed had that key's default; turning it on is named."""
    import torch

    cfg = tiny("inpaint", iterations=2, save_every=2)
    Trainer(cfg, photos, tmp_path / "run", verbose=False).fit()
    old = load_checkpoint(tmp_path / "run")
    del old["config"]["seam_l1"], old["config"]["seam_width"]  # as written before the seam term existed
    older = tmp_path / "older.pt"
    torch.save({k: v for k, v in old.items() if k != "path"}, older)
    resumed = Trainer(cfg.replace(iterations=4, seam_l1=2.0), photos, tmp_path / "next", resume=older, verbose=False)
    notice = next(line for line in resumed.log_lines if line.startswith("notice:"))
    assert "seam_l1 0.0 -> 2.0" in notice and "seam_width" not in notice
    resumed.fit()
    rows = list(csv.DictReader((tmp_path / "next" / "log.csv").open()))
    assert rows and all(float(r["loss_G_seam"]) > 0 for r in rows)  # the seam term is trained and logged


# ----------------------------------------------------------------------------------------------------
# a training process killed part-way, then resumed
# ----------------------------------------------------------------------------------------------------
def test_killed_run_resumes_without_losing_anything(photos, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "edgeconnect_lib", "train", "--stage", "edge", "--preset", "tiny",
           "--data", str(photos), "--out", str(out), "--iterations", "400", "--save-every", "3",
           "--set", "keep_last=3", "--resume"]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 90
        while time.time() < deadline and not list_checkpoints(out) and proc.poll() is None:
            time.sleep(0.05)
        assert list_checkpoints(out), f"no checkpoint appeared: {proc.stderr.read().decode()[-500:] if proc.poll() is not None else ''}"
        time.sleep(0.3)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    killed_at = load_checkpoint(out)["iteration"]  # the latest checkpoint is complete and loads
    assert 3 <= killed_at < 400
    for p in list_checkpoints(out):
        load_checkpoint(p)
    final = 12 + killed_at - killed_at % 3
    done = subprocess.run(cmd[:cmd.index("--iterations") + 1] + [str(final)] + cmd[cmd.index("--iterations") + 2:],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-800:]
    assert f"resumed from" in done.stdout and f"at iteration {killed_at}" in done.stdout
    assert load_checkpoint(out)["iteration"] == final
    assert not list((out / "checkpoints").glob("*.tmp"))
    iters = [int(r["iteration"]) for r in csv.DictReader((out / "log.csv").open())]
    assert iters == list(range(1, final + 1))  # the log continues, without gaps or duplicates


def test_edge_prefill_run_feeds_stage_three_and_a_mismatch_is_one_line(photos, tmp_path):
    """A G1 trained with edge_prefill keeps it in its checkpoint; stage 3 must say so in its config too."""
    Trainer(tiny("edge", iterations=1, edge_prefill=True), photos, tmp_path / "edge", verbose=False).fit()
    with pytest.raises(ValueError, match="--set edge_prefill=true"):
        Trainer(tiny("edge-inpaint", iterations=1), photos, tmp_path / "ei", verbose=False,
                edge_checkpoint=tmp_path / "edge")
    trainer = Trainer(tiny("edge-inpaint", iterations=1, edge_prefill=True), photos, tmp_path / "ei2",
                      verbose=False, edge_checkpoint=tmp_path / "edge")
    assert trainer.model.G_edge.prefill
    trainer.fit()
    # a G1 trained without the hint is shown it when stage 3 asks (its weights are unchanged), and a resume keeps it
    Trainer(tiny("edge", iterations=1), photos, tmp_path / "plain", verbose=False).fit()
    cfg = tiny("edge-inpaint", iterations=1, edge_prefill=True, save_every=1)
    first = Trainer(cfg, photos, tmp_path / "ei3", verbose=False, edge_checkpoint=tmp_path / "plain")
    assert first.model.G_edge.prefill
    first.fit()
    resumed = Trainer(tiny("edge-inpaint", iterations=2, edge_prefill=True), photos, tmp_path / "ei3",
                      verbose=False, resume=True, edge_checkpoint=tmp_path / "plain")
    assert resumed.model.G_edge.prefill and resumed.iteration == 1
    with pytest.raises(ValueError, match="edge_prefill"):  # resuming without the hint would change G1's input
        Trainer(tiny("edge-inpaint", iterations=2), photos, tmp_path / "ei3", verbose=False, resume=True,
                edge_checkpoint=tmp_path / "plain")
