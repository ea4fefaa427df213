"""The command line: --help, train, inpaint on files and folders, one-line errors with exit status 2."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from edgeconnect_lib.__main__ import build_parser, main
from edgeconnect_lib.train import list_checkpoints

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Photos of different sizes and a mask for each (same stem), plus two trained runs."""
    root = tmp_path_factory.mktemp("cli")
    photos, masks = root / "photos", root / "masks"
    photos.mkdir()
    masks.mkdir()
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate([(40, 44), (37, 50), (48, 36)]):
        Image.fromarray((rng.random((h, w, 3)) * 255).astype(np.uint8)).save(photos / f"im{i}.png")
        m = np.zeros((h, w), np.uint8)
        m[h // 4: h // 2, w // 4: w // 2] = 255
        Image.fromarray(m).save(masks / f"im{i}.png")
    common = ["--preset", "tiny", "--data", str(photos), "--iterations", "2", "--set", "perceptual=0",
              "--set", "style=0"]
    assert main(["train", "--stage", "edge", "--out", str(root / "edge"), *common]) == 0
    assert main(["train", "--stage", "edge-inpaint", "--out", str(root / "ei"), "--edge-checkpoint",
                 str(root / "edge"), *common]) == 0
    return root


def _verbs(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every verb of ``parser``, sub-verbs included (``("ingan", "train")``), read from the parser itself."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.append(prefix + (name,))
                found += _verbs(child, prefix + (name,))
    return found


def test_help_for_every_command(capsys):
    """``--help`` lists every verb, and ``VERB --help`` (and ``ingan ACTION --help``) prints its options, exit 0."""
    verbs = _verbs(build_parser())
    assert {("train",), ("inpaint",), ("evaluate",), ("ingan",), ("ingan", "train"), ("ingan", "retarget"),
            ("download",), ("presets",)} <= set(verbs)
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    top = capsys.readouterr().out
    assert all(verb[0] in top for verb in verbs), top
    for verb in verbs:
        with pytest.raises(SystemExit) as info:
            main([*verb, "--help"])
        assert info.value.code == 0, verb
        out = capsys.readouterr().out
        assert out.startswith("usage: python -m edgeconnect_lib " + " ".join(verb)), (verb, out[:200])
    for verb, option in ((("train",), "--stage"), (("inpaint",), "--mask"), (("evaluate",), "--masks-per-bucket"),
                         (("ingan", "retarget"), "--size"), (("download",), "--timeout")):
        with pytest.raises(SystemExit):
            main([*verb, "--help"])
        assert option in capsys.readouterr().out, verb


def test_module_runs_as_a_program():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "edgeconnect_lib", "presets"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "paper" in done.stdout


def test_train_writes_a_run(files):
    ckpts = list_checkpoints(files / "ei")
    assert ckpts and ckpts[-1].name == "ckpt_00000002.pt"


def test_inpaint_one_image(files, tmp_path, capsys):
    out = tmp_path / "result.png"
    code = main(["inpaint", "--checkpoint", str(files / "ei"), "--image", str(files / "photos" / "im1.png"),
                 "--mask", str(files / "masks" / "im1.png"), "--out", str(out)])
    assert code == 0
    assert Image.open(out).size == (50, 37)  # any size in, the same size out


def test_inpaint_blend_poisson_changes_only_the_hole(files, tmp_path):
    """--blend poisson: same size, the known pixels unchanged, the hole different from the plain paste."""
    args = ["inpaint", "--checkpoint", str(files / "ei"), "--image", str(files / "photos" / "im1.png"),
            "--mask", str(files / "masks" / "im1.png")]
    assert main(args + ["--out", str(tmp_path / "plain.png")]) == 0
    assert main(args + ["--out", str(tmp_path / "blend.png"), "--blend", "poisson"]) == 0
    plain = np.asarray(Image.open(tmp_path / "plain.png").convert("RGB"), dtype=np.int16)
    blend = np.asarray(Image.open(tmp_path / "blend.png").convert("RGB"), dtype=np.int16)
    hole = np.asarray(Image.open(files / "masks" / "im1.png").convert("L")) > 0
    assert plain.shape == blend.shape
    np.testing.assert_array_equal(plain[~hole], blend[~hole])
    assert np.abs(plain[hole] - blend[hole]).max() > 0


def test_inpaint_folders_paired_by_name(files, tmp_path):
    out = tmp_path / "results"
    code = main(["inpaint", "--checkpoint", str(files / "ei"), "--image", str(files / "photos"),
                 "--mask", str(files / "masks"), "--out", str(out), "--save-edges"])
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["im0.png", "im0_edges.png", "im1.png", "im1_edges.png", "im2.png", "im2_edges.png"]
    for i in range(3):
        src = np.asarray(Image.open(files / "photos" / f"im{i}.png"))
        res = np.asarray(Image.open(out / f"im{i}.png"))
        hole = np.asarray(Image.open(files / "masks" / f"im{i}.png")) > 0
        assert res.shape == src.shape and np.array_equal(res[~hole], src[~hole])  # known pixels kept


def test_inpaint_with_two_checkpoints_and_given_edges(files, tmp_path):
    edges = tmp_path / "edges.png"
    Image.fromarray(np.zeros((37, 50), np.uint8)).save(edges)
    code = main(["inpaint", "--edge-checkpoint", str(files / "edge"), "--inpaint-checkpoint", str(files / "ei"),
                 "--image", str(files / "photos" / "im1.png"), "--mask", str(files / "masks" / "im1.png"),
                 "--edges", str(edges), "--out", str(tmp_path / "r.png")])
    assert code == 0 and (tmp_path / "r.png").is_file()


def test_saved_edges_are_in_the_format_edges_reads(files, tmp_path):
    """--save-edges writes white = edge (G_edge's map at 0.5), the convention --edges reads back."""
    from edgeconnect_lib.images import load_image
    from edgeconnect_lib.masks import load_mask
    from edgeconnect_lib.models import EdgeConnect

    out = tmp_path / "first.png"
    assert main(["inpaint", "--checkpoint", str(files / "ei"), "--image", str(files / "photos" / "im1.png"),
                 "--mask", str(files / "masks" / "im1.png"), "--out", str(out), "--save-edges"]) == 0
    saved = np.asarray(Image.open(tmp_path / "first_edges.png")) > 127
    # the command line's default precision (--amp auto: bf16 on a CPU with native bf16)
    used = EdgeConnect.load(files / "ei", amp="auto").inpaint(load_image(files / "photos" / "im1.png"),
                                                              load_mask(files / "masks" / "im1.png")).edges > 0.5
    assert np.array_equal(saved, used)


def _error(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_clear_errors(files, tmp_path, capsys):
    photos, masks = str(files / "photos"), str(files / "masks")
    ckpt = str(files / "ei")
    assert "no such" in _error(["inpaint", "--checkpoint", str(tmp_path / "missing.pt"), "--image", photos,
                                "--mask", masks, "--out", str(tmp_path)], capsys)
    assert "must have the image's size" in _error(
        ["inpaint", "--checkpoint", ckpt, "--image", str(files / "photos" / "im0.png"),
         "--mask", str(files / "masks" / "im1.png"), "--out", str(tmp_path / "x.png")], capsys)
    assert "G_inpaint" in _error(["inpaint", "--checkpoint", str(files / "edge"), "--image", photos,
                                  "--mask", masks, "--out", str(tmp_path)], capsys)
    assert "--data" in _error(["train", "--stage", "edge", "--data", str(tmp_path / "none"), "--out",
                               str(tmp_path / "r")], capsys)
    assert "edge-checkpoint" in _error(["train", "--stage", "edge-inpaint", "--preset", "tiny", "--data", photos,
                                        "--out", str(tmp_path / "r")], capsys)
    assert "unknown config key" in _error(["train", "--stage", "edge", "--preset", "tiny", "--data", photos,
                                           "--out", str(tmp_path / "r"), "--set", "colour=1"], capsys)
    assert "checkpoint" in _error(["inpaint", "--image", photos, "--mask", masks, "--out", str(tmp_path)], capsys)


def test_folders_pair_by_sorted_order_when_names_differ():
    from edgeconnect_lib.__main__ import CliError, _pair

    images = [Path("a/img1.png"), Path("a/img2.png")]
    masks = [Path("m/mask_002.png"), Path("m/mask_001.png")]
    assert _pair(images, masks, "mask", "auto") == sorted(masks)
    assert _pair(images, [Path("m/one.png")], "mask", "auto") == [Path("m/one.png")] * 2
    with pytest.raises(CliError, match="2 images but 3 masks"):
        _pair(images, masks + [Path("m/mask_003.png")], "mask", "auto")
    with pytest.raises(CliError, match="--pair name"):
        _pair(images, masks, "mask", "name")
