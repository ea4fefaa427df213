"""The ``ingan`` verbs' files and settings (issue 20, InGAN cases; issue 23, the run folder and ``--set``).

Case 2: ``ingan train --export`` that names an input; case 3: ``ingan train --out`` of another run without
``--resume``, and ``--resume --image OTHER`` (case 9); case 4: ``ingan retarget`` outputs that are one file or
an input; case 11: typed, validated ``--set``. A refusal is one ``error:`` line, exit 2, and nothing is written.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from PIL import Image

import edgeconnect_lib.__main__ as cli_main
import edgeconnect_lib.cli_files as cli_files
import edgeconnect_lib.ingan.cli as ingan_cli
from edgeconnect_lib.__main__ import main
from edgeconnect_lib.course_data import data_dir
from edgeconnect_lib.ingan import InGANTrainer, get_ingan_config
from edgeconnect_lib.errors import TrainingDiverged

PHOTO = data_dir() / "images" / "plasma_colorful_cups.jpg"
TINY = ["--preset", "tiny", "--no-progress", "--set", "save_every=2", "--set", "log_every=1"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> dict[str, Path]:
    """Two small photos (A: the cups, B: the cups upside down) and a run of 2 iterations on A."""
    root = tmp_path_factory.mktemp("ingan_cli")
    a, b = root / "a.png", root / "b.png"
    im = Image.open(PHOTO).convert("RGB").resize((48, 30))
    im.save(a)
    im.transpose(Image.FLIP_TOP_BOTTOM).save(b)
    run = root / "run_a"
    assert main(["ingan", "train", "--image", str(a), "--out", str(run), "--iterations", "2", *TINY]) == 0
    return {"a": a, "b": b, "run": run, "root": root}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _error(argv: list[str], capsys, code: int = 2) -> str:
    assert main(argv) == code, argv
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


# ---------------------------------------------------------------------------------------------------------
# Case 2: --export that is an input
# ---------------------------------------------------------------------------------------------------------
def test_train_export_that_is_the_photo_is_refused_by_any_name(photos, tmp_path, capsys):
    photo = tmp_path / "v.png"
    photo.write_bytes(photos["a"].read_bytes())
    (tmp_path / "link.png").symlink_to(photo)
    (tmp_path / "sub").mkdir()
    before = photo.read_bytes()
    for export in (photo, tmp_path / "link.png", tmp_path / "sub" / ".." / "v.png"):
        err = _error(["ingan", "train", "--image", str(photo), "--out", str(tmp_path / "R"), "--iterations", "2",
                      *TINY, "--export", str(export)], capsys)
        assert f"--export {export} is the input file of --image" in err
    assert photo.read_bytes() == before and not (tmp_path / "R").exists()
    # the --resume file, and the run's own checkpoints, are not export targets either
    ckpt = sorted((photos["run"] / "checkpoints").glob("ckpt_*.pt"))[-1]
    run_before = _snapshot(photos["run"])
    assert "is the input file of --resume" in _error(
        ["ingan", "train", "--out", str(tmp_path / "R2"), "--resume", str(ckpt), "--export", str(ckpt),
         "--no-progress"], capsys)
    assert "inside the run folder's own files" in _error(
        ["ingan", "train", "--out", str(photos["run"]), "--resume", "--no-progress",
         "--export", str(photos["run"] / "checkpoints" / "ckpt_00000009.pt")], capsys)
    assert "is the input file of --image" in _error(
        ["ingan", "train", "--image", str(photo), "--out", str(photo), "--iterations", "2", *TINY], capsys)
    assert _snapshot(photos["run"]) == run_before and not (tmp_path / "R2").exists()


# ---------------------------------------------------------------------------------------------------------
# Case 3 (and issue 23): --out of another run; case 9: --resume --image OTHER
# ---------------------------------------------------------------------------------------------------------
def test_train_into_a_folder_holding_a_run_needs_resume(photos, capsys):
    run = photos["run"]
    before = _snapshot(run)
    assert any(name.startswith("checkpoints/") for name in before)
    for image in (photos["b"], photos["a"]):  # another photo, or the same one: a fresh run would mix with it
        err = _error(["ingan", "train", "--image", str(image), "--out", str(run), "--iterations", "2", *TINY], capsys)
        assert f"{run} already holds checkpoints of an earlier run: resume it" in err and "--resume" in err
    assert _snapshot(run) == before
    # the library refuses it too (as train.Trainer does)
    with pytest.raises(ValueError, match="already holds checkpoints of an earlier run"):
        InGANTrainer(get_ingan_config("tiny", device="cpu", progress=False), photos["b"], run, verbose=False)
    assert _snapshot(run) == before


def test_resume_with_another_photo_is_refused_and_with_its_own_continues(photos, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["ingan", "train", "--image", str(photos["a"]), "--out", str(run), "--iterations", "2", *TINY]) == 0
    capsys.readouterr()
    before = _snapshot(run)
    err = _error(["ingan", "train", "--image", str(photos["b"]), "--out", str(run), "--resume", "--iterations", "4",
                  "--no-progress"], capsys)
    assert f"image {photos['b']} is not the photo of the run being resumed (a.png" in err
    assert _snapshot(run) == before
    # a checkpoint of another run resumed into this folder would mix the two runs as well
    other = sorted((photos["run"] / "checkpoints").glob("ckpt_*.pt"))[-1]
    assert "would mix two runs" in _error(["ingan", "train", "--out", str(run), "--resume", str(other),
                                           "--iterations", "4", "--no-progress"], capsys)
    assert _snapshot(run) == before
    # its own photo, given again, is fine; so is --resume naming the folder itself
    assert main(["ingan", "train", "--image", str(photos["a"]), "--out", str(run), "--resume", "--iterations", "4",
                 "--no-progress"]) == 0
    assert "iteration 4" in capsys.readouterr().out
    assert main(["ingan", "train", "--out", str(run), "--resume", str(run), "--iterations", "5", "--no-progress"]) == 0
    assert "iteration 5" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------------------
# Case 4: retarget outputs
# ---------------------------------------------------------------------------------------------------------
def test_retarget_outputs_that_are_one_file_or_an_input_are_refused(photos, tmp_path, capsys):
    run = photos["run"]
    ckpt = sorted((run / "checkpoints").glob("ckpt_*.pt"))[-1]
    x = tmp_path / "x.png"
    (tmp_path / "y.png").symlink_to(x)
    base = ["ingan", "retarget", "--checkpoint", str(run), "--size", "20x40"]
    assert "--bicubic" in _error([*base, "--out", str(x), "--bicubic", str(x)], capsys)
    assert "also the output of --out" in _error([*base, "--out", str(x), "--bicubic", str(tmp_path / "y.png")],
                                                capsys)
    run_before = _snapshot(run)
    assert "is the input file of --checkpoint" in _error([*base, "--out", str(ckpt)], capsys)  # the folder's newest
    assert "is the input file of --checkpoint" in _error(["ingan", "retarget", "--checkpoint", str(ckpt), "--size",
                                                          "20x40", "--out", str(x), "--bicubic", str(ckpt)], capsys)
    assert _snapshot(run) == run_before
    photo = tmp_path / "p.png"
    photo.write_bytes(photos["a"].read_bytes())
    assert "is the input file of --image" in _error(["ingan", "retarget", "--method", "gpnn", "--image", str(photo),
                                                     "--size", "20x40", "--out", str(photo)], capsys)
    os.link(photo, tmp_path / "hard.png")  # another name of the photo, not a symlink
    assert "is the input file of --image" in _error(["ingan", "retarget", "--method", "gpnn", "--image", str(photo),
                                                     "--size", "20x40", "--out", str(tmp_path / "hard.png")], capsys)
    assert photo.read_bytes() == photos["a"].read_bytes()
    assert "not an image file ending" in _error([*base, "--out", str(tmp_path / "x.txt")], capsys)
    assert not x.exists() and not (tmp_path / "x.txt").exists()
    assert main([*base, "--out", str(x), "--bicubic", str(tmp_path / "b.png")]) == 0
    assert Image.open(x).size == (40, 20) and Image.open(tmp_path / "b.png").size == (40, 20)


# ---------------------------------------------------------------------------------------------------------
# Case 11: --set, typed and validated, one parser for train and ingan train
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("item, words", [
    ("lr=abc", "--set lr=abc: lr expects a number"),
    ("lr=nan", "lr expects a finite number"),
    ("lr=inf", "lr expects a finite number"),
    ("lr=0", "InGANConfig.lr=0.0: must be a positive number"),
    ("min_scale=abc", "min_scale expects a number"),
    ("min_scale=2", "need 0 < min_scale <= 1"),
    ("beta1=x", "beta1 expects a number"),
    ("beta1=1.5", "Adam betas must be in [0, 1)"),
    ("seed=abc", "seed expects an integer"),
    ("seed=1.5", "seed expects an integer"),
    ("seed=-1", "InGANConfig.seed=-1: must be a whole number"),
    ("lambda_identity=abc", "lambda_identity expects a number"),
    ("lambda_identity=-1", "InGANConfig.lambda_identity=-1.0: must be a finite number >= 0"),
    ("image_size=64.5", "image_size expects an integer"),
    ("progress=1", "progress expects true or false"),
    ("colour=1", "unknown InGAN setting(s) ['colour']"),
    ("lr", "expected KEY=VALUE"),
    ("iterations=5", "--set iterations=5 conflicts with --iterations 2"),
])
def test_set_values_are_typed_and_checked_in_one_line(photos, tmp_path, capsys, item, words):
    err = _error(["ingan", "train", "--image", str(photos["a"]), "--out", str(tmp_path / "R"), "--iterations", "2",
                  "--preset", "tiny", "--set", item], capsys)
    assert words in err
    assert not (tmp_path / "R").exists()


def test_set_on_resume_is_checked_the_same_way(photos, capsys):
    before = _snapshot(photos["run"])
    assert "lr expects a number" in _error(["ingan", "train", "--out", str(photos["run"]), "--resume",
                                            "--set", "lr=abc"], capsys)
    assert "unknown InGAN setting" in _error(["ingan", "train", "--out", str(photos["run"]), "--resume",
                                              "--set", "colour=1"], capsys)
    assert _snapshot(photos["run"]) == before


def test_one_set_parser_for_train_and_ingan(photos, tmp_path, capsys):
    assert cli_main.parse_overrides is cli_files.parse_overrides is ingan_cli.parse_overrides
    assert not hasattr(cli_main, "_value") and not hasattr(ingan_cli, "_config_value")
    err = _error(["train", "--stage", "edge", "--preset", "tiny", "--data", str(photos["root"]), "--out",
                  str(tmp_path / "r"), "--set", "lr=nan"], capsys)
    assert "lr expects a finite number" in err and not (tmp_path / "r").exists()


def test_a_bug_keeps_its_traceback(photos, tmp_path, monkeypatch):
    """Only the config's checks (ValueError) become a usage error; a real bug is not dressed as one."""
    def broken(self, iterations=None):
        raise TypeError("a bug")

    monkeypatch.setattr(InGANTrainer, "fit", broken)
    with pytest.raises(TypeError, match="a bug"):
        main(["ingan", "train", "--image", str(photos["a"]), "--out", str(tmp_path / "R"), "--iterations", "2",
              *TINY])


# ---------------------------------------------------------------------------------------------------------
# Issue 23: one checkpoint read once; one divergence type
# ---------------------------------------------------------------------------------------------------------
def test_resume_reads_the_checkpoint_once(photos, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    assert main(["ingan", "train", "--image", str(photos["a"]), "--out", str(run), "--iterations", "2", *TINY]) == 0
    loads = []
    real_load = torch.load

    def counting_load(*args, **kwargs):
        loads.append(args[0] if args else kwargs.get("f"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", counting_load)
    assert main(["ingan", "train", "--out", str(run), "--resume", "--iterations", "3", "--no-progress"]) == 0
    assert len(loads) == 1, loads
    assert "resumed from" in capsys.readouterr().out


def test_divergence_raises_the_library_error_and_the_cli_names_the_last_checkpoint(photos, tmp_path, monkeypatch,
                                                                                    capsys):
    import edgeconnect_lib.ingan.trainer as trainer_module

    real = trainer_module.ingan_losses

    def diverging(*args, **kwargs):
        losses = real(*args, **kwargs)
        losses["loss_G_cycle"] = losses["loss_G_cycle"] * float("nan")
        return losses

    monkeypatch.setattr(trainer_module, "ingan_losses", diverging)
    trainer = InGANTrainer(get_ingan_config("tiny", device="cpu", progress=False), photos["a"], verbose=False)
    with pytest.raises(TrainingDiverged) as caught:
        trainer.step()
    assert caught.value.name == "loss_G_cycle" and caught.value.iteration == 1
    assert isinstance(caught.value, FloatingPointError)  # what callers caught before
    err = _error(["ingan", "train", "--image", str(photos["a"]), "--out", str(tmp_path / "R"), "--iterations", "2",
                  *TINY], capsys, code=1)
    assert "loss_G_cycle became nan at iteration 1: training diverged" in err and "no checkpoint was written yet" in err
