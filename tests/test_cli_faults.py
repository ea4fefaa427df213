"""The command line under bad inputs and faults (issue 12): no silent wrong output and no lost file.

Pairing of folders, output names that cannot collide or replace an input, disk faults injected into the
writers (one ``error:`` line naming the file and the cause; earlier files intact), ``--resume PATH``,
bad photos found before training, large images and near-empty masks.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from edgeconnect_lib import checkpoints as ckpt_mod
from edgeconnect_lib.__main__ import CliError, _pair, describe_os_error, main
from edgeconnect_lib.checkpoints import list_checkpoints, load_checkpoint

TRAIN = ["--preset", "tiny", "--iterations", "2", "--set", "perceptual=0", "--set", "style=0", "--no-progress"]


def _photo(path: Path, h: int, w: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray((rng.random((h, w, 3)) * 255).astype(np.uint8)).save(path)
    return path


def _mask(path: Path, h: int, w: int, full: bool = False) -> Path:
    m = np.full((h, w), 255 if full else 0, np.uint8)
    m[h // 4: h // 2, w // 4: w // 2] = 255
    Image.fromarray(m).save(path)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict[str, Path]:
    """Four photos (a, b, c, d; 40 x 44) with same-named masks, and a trained edge-inpaint run."""
    root = tmp_path_factory.mktemp("faults")
    photos, masks = root / "photos", root / "masks"
    photos.mkdir()
    masks.mkdir()
    for i, name in enumerate("abcd"):
        _photo(photos / f"{name}.png", 40, 44, seed=i)
        _mask(masks / f"{name}.png", 40, 44)
    assert main(["train", "--stage", "edge", "--out", str(root / "edge"), "--data", str(photos), *TRAIN]) == 0
    assert main(["train", "--stage", "edge-inpaint", "--out", str(root / "ei"), "--edge-checkpoint",
                 str(root / "edge"), "--data", str(photos), *TRAIN]) == 0
    return {"root": root, "photos": photos, "masks": masks, "ei": root / "ei"}


def _error(argv, capsys, code: int = 2) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def _inpaint(run, image, mask, out, *extra) -> list[str]:
    return ["inpaint", "--checkpoint", str(run["ei"]), "--image", str(image), "--mask", str(mask), "--out", str(out),
            *extra]


# ---------------------------------------------------------------------------------------------------- 1. pairing
def test_partly_matching_names_are_an_error_listing_them(tmp_path, capsys):
    """A = {a, b}, M = {b, c}: b must never get c's mask; the unmatched names are listed."""
    images, masks = [Path("A/a.png"), Path("A/b.png")], [Path("M/b.png"), Path("M/c.png")]
    with pytest.raises(CliError, match=r"1 of 2 images have no mask of the same name: a\.png \(unused masks: c\.png\)"):
        _pair(images, masks, "mask", "auto")
    assert _pair(images, [Path("M/b.png"), Path("M/a.png"), Path("M/z.png")], "mask", "auto") == [
        Path("M/a.png"), Path("M/b.png")]  # all named: by name, extras unused
    assert _pair(images, masks, "mask", "sorted") == masks  # asked for explicitly


def test_partly_matching_folders_end_in_an_error_through_the_cli(run, tmp_path, capsys):
    A, M, E = tmp_path / "A", tmp_path / "M", tmp_path / "E"
    for d in (A, M, E):
        d.mkdir()
    for name in "ab":
        _photo(A / f"{name}.png", 40, 44)
    for name in "bc":
        _mask(M / f"{name}.png", 40, 44)
        Image.fromarray(np.zeros((40, 44), np.uint8)).save(E / f"{name}.png")
    err = _error(_inpaint(run, A, M, tmp_path / "out"), capsys)
    assert "a.png" in err and "c.png" in err and "--pair sorted" in err
    assert not (tmp_path / "out").exists()  # nothing written
    err = _error(_inpaint(run, A, run["masks"], tmp_path / "out", "--edges", str(E)), capsys)
    assert "no edge map of the same name: a.png" in err


def test_sorted_order_only_when_no_name_matches_and_then_a_note(run, tmp_path, capsys):
    M = tmp_path / "M"
    M.mkdir()
    for i in range(4):
        _mask(M / f"mask_{i:03d}.png", 40, 44)
    assert main(_inpaint(run, run["photos"], M, tmp_path / "out")) == 0
    out = capsys.readouterr().out
    assert "note: no mask is named like an image, so they are paired by sorted order" in out
    assert "a.png + mask_000.png" in out and sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "a.png", "b.png", "c.png", "d.png"]


# ---------------------------------------------------------------------------------------------------- 2. outputs
def test_two_images_with_one_stem_are_refused_not_overwritten(run, tmp_path, capsys):
    A = tmp_path / "A"
    A.mkdir()
    _photo(A / "a.jpg", 40, 44)
    _photo(A / "a.png", 40, 44)
    err = _error(_inpaint(run, A, run["masks"] / "a.png", tmp_path / "out"), capsys)
    assert "a.jpg, a.png ->" in err and "same result file" in err
    assert not (tmp_path / "out").exists()


def test_never_writes_over_an_input(run, tmp_path, capsys):
    before = {p.name: p.read_bytes() for p in run["photos"].iterdir()}
    err = _error(_inpaint(run, run["photos"], run["masks"], run["photos"]), capsys)
    assert "overwrite the input file" in err or "is the --image folder" in err
    one = run["photos"] / "a.png"
    assert "overwrite the input file" in _error(_inpaint(run, one, run["masks"] / "a.png", one), capsys)
    assert "overwrite the input file" in _error(_inpaint(run, one, run["masks"] / "a.png", run["masks"] / "a.png"),
                                                capsys)
    jpgs = tmp_path / "jpgs"
    jpgs.mkdir()
    _photo(jpgs / "a.jpg", 40, 44)
    assert "is the --image folder" in _error(_inpaint(run, jpgs, run["masks"] / "a.png", jpgs), capsys)
    assert {p.name: p.read_bytes() for p in run["photos"].iterdir()} == before
    assert [p.name for p in jpgs.iterdir()] == ["a.jpg"]


def test_output_path_that_is_a_folder_or_has_no_image_extension(run, tmp_path, capsys):
    one, mask = run["photos"] / "a.png", run["masks"] / "a.png"
    (tmp_path / "d.png").mkdir()
    assert "is an existing folder, not a file" in _error(_inpaint(run, one, mask, tmp_path / "d.png"), capsys)
    err = _error(_inpaint(run, one, mask, tmp_path / "r.xyz"), capsys)
    assert "'.xyz' is not an image extension" in err and not (tmp_path / "r.xyz").exists()
    err = _error(_inpaint(run, run["photos"], run["masks"], tmp_path / "r.png"), capsys)
    assert "--out must be a folder" in err and not (tmp_path / "r.png").exists()
    (tmp_path / "file").write_text("x")
    assert "is an existing file" in _error(_inpaint(run, run["photos"], run["masks"], tmp_path / "file"), capsys)


# ---------------------------------------------------------------------------------------------------- 3. OS faults
def test_disk_full_while_saving_a_checkpoint_says_so_and_keeps_the_last_one(run, tmp_path, capsys, monkeypatch):
    real_save, calls = torch.save, {"n": 0}

    def full_disk(obj, f, *a, **k):  # what PyTorch's zip writer raises when write() fails
        calls["n"] += 1
        if calls["n"] == 2:
            f.write(b"partial")
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(ckpt_mod.torch, "save", full_disk)
    monkeypatch.setattr(ckpt_mod, "_free_bytes", lambda folder: 1024.0)  # statvfs: the disk is full
    out = tmp_path / "run"
    err = _error(["train", "--stage", "edge", "--data", str(run["photos"]), "--out", str(out), *TRAIN,
                  "--iterations", "4", "--save-every", "2"], capsys, code=1)
    assert "ckpt_00000004.pt: No space left on device" in err and "inline_container" not in err
    assert "last good checkpoint is" in err and "ckpt_00000002.pt" in err and "disk is full" in err
    monkeypatch.undo()
    assert [p.name for p in list_checkpoints(out)] == ["ckpt_00000002.pt"]
    assert load_checkpoint(out)["iteration"] == 2  # intact
    assert not list((out / "checkpoints").glob(".*tmp"))


def test_read_only_filesystem_while_saving_is_one_line(run, tmp_path, capsys, monkeypatch):
    def read_only(src, dst):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), src)

    monkeypatch.setattr(ckpt_mod.os, "replace", read_only)
    out = tmp_path / "run"
    err = _error(["train", "--stage", "edge", "--data", str(run["photos"]), "--out", str(out), *TRAIN], capsys, code=1)
    assert "ckpt_00000002.pt: Read-only file system" in err and "write to another folder" in err


def test_a_failed_result_write_keeps_the_results_already_written(run, tmp_path, capsys, monkeypatch):
    real_save, calls = Image.Image.save, {"n": 0}

    def flaky(self, fp, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(self, fp, *a, **k)

    monkeypatch.setattr(Image.Image, "save", flaky)
    out = tmp_path / "out"
    err = _error(_inpaint(run, run["photos"], run["masks"], out), capsys, code=1)
    assert f"{out / 'b.png'}: No space left on device" in err
    monkeypatch.undo()
    assert [p.name for p in out.iterdir()] == ["a.png"]  # a kept, no half-written b, no temporary file
    assert Image.open(out / "a.png").size == (44, 40)


def test_permission_error_names_the_path_and_the_fix():
    line = describe_os_error(PermissionError(errno.EACCES, "Permission denied", "/data/out/a.png"))
    assert line == ("/data/out/a.png: Permission denied (no permission: check the permissions of the file and its "
                    "folder, or write elsewhere)")


# ---------------------------------------------------------------------------------------------------- 4. resume
def test_resume_from_a_given_checkpoint_file(run, tmp_path, capsys):
    out = tmp_path / "run"
    common = ["train", "--stage", "edge", "--data", str(run["photos"]), "--out", str(out), *TRAIN,
              "--save-every", "1", "--set", "keep_last=5"]
    assert main(common) == 0
    first = list_checkpoints(out)[0]
    assert main([*common, "--iterations", "3", "--resume", str(first)]) == 0
    assert f"resumed from {first} at iteration 1" in capsys.readouterr().out
    assert load_checkpoint(out)["iteration"] == 3
    assert "no such file" in _error([*common, "--resume", str(tmp_path / "nope.pt")], capsys)


def test_resume_skips_a_truncated_latest_checkpoint(run, tmp_path, capsys):
    out = tmp_path / "run"
    common = ["train", "--stage", "edge", "--data", str(run["photos"]), "--out", str(out), *TRAIN, "--save-every", "1"]
    assert main(common) == 0
    latest = list_checkpoints(out)[-1]
    latest.write_bytes(latest.read_bytes()[:100])
    assert main([*common, "--iterations", "3", "--resume"]) == 0
    printed = capsys.readouterr().out
    assert f"skipped unreadable checkpoint {latest}" in printed and "ckpt_00000001.pt" in printed
    assert load_checkpoint(out)["iteration"] == 3


# ---------------------------------------------------------------------------------------------------- 5. bad photos
def test_bad_photos_stop_before_training_or_are_skipped(run, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for name in "abcd":
        _photo(data / f"{name}.png", 40, 44)
    (data / "broken.png").write_bytes((data / "a.png").read_bytes()[:60])
    (data / "text.jpg").write_text("not a photo")
    _photo(data / "speck.png", 3, 3)
    common = ["train", "--stage", "edge", "--data", str(data), *TRAIN]
    err = _error([*common, "--out", str(tmp_path / "r1")], capsys)
    assert all(n in err for n in ("broken.png", "text.jpg", "speck.png")) and "--skip-bad-images" in err
    assert not (tmp_path / "r1").exists()  # stopped before anything was written
    for flag in (["--skip-bad-images"], ["--set", "on_error=skip"]):
        out = tmp_path / f"r{len(flag)}"
        assert main([*common, "--out", str(out), *flag]) == 0
        printed = capsys.readouterr().out
        assert "skipped 3 training photo(s)" in printed and "broken.png" in printed and "speck.png" in printed
        assert load_checkpoint(out)["config"]["on_error"] == "skip"


# ---------------------------------------------------------------------------------------------------- 6. checkpoints
def test_a_non_torch_file_or_a_code_running_pickle_as_checkpoint(run, tmp_path, capsys):
    one, mask = run["photos"] / "a.png", run["masks"] / "a.png"
    text = tmp_path / "notes.pt"
    text.write_text("hello world\n")
    err = _error(["inpaint", "--checkpoint", str(text), "--image", str(one), "--mask", str(mask), "--out",
                  str(tmp_path / "r.png")], capsys)
    assert "is not a PyTorch checkpoint" in err and "pop from empty list" not in err

    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    evil = tmp_path / "evil.pt"
    torch.save({"networks": Evil()}, evil)
    err = _error(["inpaint", "--checkpoint", str(evil), "--image", str(one), "--mask", str(mask), "--out",
                  str(tmp_path / "r.png")], capsys)
    assert "unsupported GLOBAL posix.system" in err or "unsupported GLOBAL nt.system" in err
    assert "arbitrary code" in err and "weights_only=False" in err


# ---------------------------------------------------------------------------------------------------- 7. large, odd
def test_large_image_refused_with_the_way_out_or_downscaled(run, tmp_path, capsys):
    big, mask = _photo(tmp_path / "big.png", 120, 160), _mask(tmp_path / "big_mask.png", 120, 160)
    err = _error(_inpaint(run, big, mask, tmp_path / "r.png", "--max-megapixels", "0.01"), capsys)
    assert "big.png (160x120)" in err and "--max-side" in err
    assert main(_inpaint(run, big, mask, tmp_path / "r.png", "--max-megapixels", "0.01", "--max-side", "64")) == 0
    res, src = np.asarray(Image.open(tmp_path / "r.png")), np.asarray(Image.open(big))
    hole = np.asarray(Image.open(mask)) > 0
    assert res.shape == src.shape and np.array_equal(res[~hole], src[~hole])  # known pixels at full resolution


def test_warnings_for_an_all_hole_mask_and_a_tiny_image(run, tmp_path, capsys):
    one = run["photos"] / "a.png"
    assert main(_inpaint(run, one, _mask(tmp_path / "all.png", 40, 44, full=True), tmp_path / "r.png")) == 0
    assert "warning: a.png: the hole covers 100% of the image" in capsys.readouterr().err
    dot = _photo(tmp_path / "dot.png", 1, 1)
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(tmp_path / "dot_mask.png")
    assert main(_inpaint(run, dot, tmp_path / "dot_mask.png", tmp_path / "d.png")) == 0
    assert "smaller than the networks' minimum of 16 px" in capsys.readouterr().err
