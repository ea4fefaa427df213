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
from edgeconnect_lib import fileio as fileio_mod
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
    monkeypatch.setattr(fileio_mod, "_free_bytes", lambda folder: 1024.0)  # statvfs: the disk is full
    out = tmp_path / "run"
    err = _error(["train", "--stage", "edge", "--data", str(run["photos"]), "--out", str(out), *TRAIN,
                  "--iterations", "4", "--save-every", "2"], capsys, code=1)
    assert "ckpt_00000004.pt: No space left on device" in err and "inline_container" not in err
    assert "last good checkpoint is" in err and "ckpt_00000002.pt" in err and "disk is full" in err
    monkeypatch.undo()
    assert [p.name for p in list_checkpoints(out)] == ["ckpt_00000002.pt"]
    assert load_checkpoint(out)["iteration"] == 2  # intact
    assert not list((out / "checkpoints").glob(".*tmp"))


@pytest.mark.parametrize("suffix, named", [(".pt", "ckpt_00000002.pt: Read-only file system"),
                                           (".png", "cannot save sample grid: ")])
def test_read_only_filesystem_while_saving_is_one_line(run, tmp_path, capsys, monkeypatch, suffix, named):
    """A checkpoint or a sample grid (both written atomically: temporary file, then rename) that cannot be renamed
    into place is one line naming the file."""
    real_replace = os.replace

    def read_only(src, dst):
        if str(dst).endswith(suffix):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), src)
        return real_replace(src, dst)

    monkeypatch.setattr(ckpt_mod.os, "replace", read_only)
    out = tmp_path / "run"
    err = _error(["train", "--stage", "edge", "--data", str(run["photos"]), "--out", str(out), *TRAIN], capsys, code=1)
    assert named in err and "Read-only file system" in err and "write to another folder" in err


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


# ---------------------------------------------------------------------------------------------------- 8. issue 20
def _evaluate(run, out, *extra) -> list[str]:
    return ["evaluate", "--checkpoint", str(run["ei"]), "--photos", str(run["photos"]), "--methods", "mean",
            "--masks-per-bucket", "1", "--size", "32", "--out", str(out), *extra]


def test_evaluate_out_never_replaces_an_input_or_a_file_that_is_not_a_table(run, tmp_path, capsys):
    """Case 1: --out = the checkpoint (also through a symlink or ..), a photo, a non-table file: one line, kept."""
    ckpt = list_checkpoints(run["ei"])[-1]
    photo = run["photos"] / "a.png"
    before = {p: p.read_bytes() for p in (ckpt, photo)}
    link = tmp_path / "link.pt"
    link.symlink_to(ckpt)
    for out in (ckpt, link, run["photos"] / ".." / "photos" / "a.png"):
        err = _error(["evaluate", "--checkpoint", str(ckpt), "--photos", str(run["photos"]), "--methods", "mean",
                      "--masks-per-bucket", "1", "--size", "32", "--out", str(out)], capsys)
        assert "is the input file of" in err and "--out" in err
    notes = tmp_path / "notes.md"
    notes.write_text("# my notes\n")
    assert "is not a table evaluate wrote" in _error(_evaluate(run, notes), capsys)
    assert notes.read_text() == "# my notes\n"
    assert ".md, .csv, .txt" in _error(_evaluate(run, tmp_path / "table.png"), capsys)
    assert {p: p.read_bytes() for p in before} == before
    table = tmp_path / "table.md"
    assert main(_evaluate(run, table)) == 0  # a new table, then an earlier table replaced
    assert table.read_text().startswith("| hole ratio |")
    assert main(_evaluate(run, table, "--seed", "1")) == 0
    assert not list(tmp_path.glob(".*tmp"))


def _edges_file(path: Path, level: int, h: int = 40, w: int = 44) -> Path:
    e = np.zeros((h, w), np.uint8)
    e[5:h - 5, w // 2] = level
    e[12, 2:w - 4] = level
    Image.fromarray(e).save(path)
    return path


def test_edge_maps_have_one_meaning_and_are_checked_like_masks(run, tmp_path, capsys):
    """Case 5: 0/1, 0/100 and 0/255 edge maps are the same edges (non-zero = edge, as masks); a colour photo, a
    wrong size and an unreadable file are one line each."""
    from edgeconnect_lib.editor import load_edges

    one, mask = run["photos"] / "a.png", run["masks"] / "a.png"
    results = []
    for level in (1, 100, 255):
        edges = _edges_file(tmp_path / f"e{level}.png", level)
        assert load_edges(edges).sum() == 30 + 38 - 1
        out = tmp_path / f"r{level}.png"
        assert main(_inpaint(run, one, mask, out, "--edges", str(edges), "--amp", "off")) == 0
        results.append(np.asarray(Image.open(out)))
    assert np.array_equal(results[0], results[2]) and np.array_equal(results[1], results[2])
    err = _error(_inpaint(run, one, mask, tmp_path / "x.png", "--edges", str(run["photos"] / "b.png")), capsys)
    assert "edge map file" in err and "colour image" in err
    err = _error(_inpaint(run, one, mask, tmp_path / "x.png", "--edges", str(_edges_file(tmp_path / "s.png", 255,
                                                                                          20, 20))), capsys)
    assert "edge map" in err and "20x20" in err and "must have the image's size" in err
    (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
    assert "cannot read edge map file" in _error(_inpaint(run, one, mask, tmp_path / "x.png", "--edges",
                                                          str(tmp_path / "bad.png")), capsys)
    assert not (tmp_path / "x.png").exists()


def test_train_out_inside_the_data_folder_is_refused(run, tmp_path, capsys):
    """Case 6: samples written into --data would be read as photos on --resume."""
    data = tmp_path / "data"
    data.mkdir()
    for name in "abcd":
        _photo(data / f"{name}.png", 40, 44)
    for out in (data, data / "run", data / "sub" / ".." / "run2"):
        err = _error(["train", "--stage", "edge", "--data", str(data), "--out", str(out), *TRAIN], capsys)
        assert "inside the training data folder" in err
    assert sorted(p.name for p in data.iterdir()) == ["a.png", "b.png", "c.png", "d.png"]
    glob = str(data / "*.png")  # a glob of the folder's own files: a sub-folder is not read, the folder is
    assert "inside the training data folder" in _error(["train", "--stage", "edge", "--data", glob, "--out",
                                                        str(data), *TRAIN], capsys)


def test_save_edges_then_edges_is_an_exact_round_trip(run, tmp_path, monkeypatch):
    """Case 7: the edges G_inpaint got in run 1 are the file's edges in run 2, pixel for pixel, and so is the
    result (also through --max-side)."""
    from edgeconnect_lib.masks import load_edge_map
    from edgeconnect_lib.models import EdgeConnect

    seen: list = []
    real = EdgeConnect.inpaint

    def spy(self, image, mask, edges=None, **kw):
        seen.append(None if edges is None else np.asarray(edges).copy())
        return real(self, image, mask, edges=edges, **kw)

    monkeypatch.setattr(EdgeConnect, "inpaint", spy)
    one, mask = run["photos"] / "c.png", run["masks"] / "c.png"
    for extra in ([], ["--max-side", "32"]):
        seen.clear()
        first, second = tmp_path / "first.png", tmp_path / "second.png"
        assert main(_inpaint(run, one, mask, first, "--save-edges", *extra)) == 0
        used = seen[-1]
        saved = tmp_path / "first_edges.png"
        assert used is not None and used.dtype == bool and np.array_equal(load_edge_map(saved), used)
        assert main(_inpaint(run, one, mask, second, "--edges", str(saved), *extra)) == 0
        assert np.array_equal(seen[-1], used)
        assert np.array_equal(np.asarray(Image.open(first)), np.asarray(Image.open(second)))


def test_grey_in_grey_out_and_notes_for_alpha_and_lossy_formats(run, tmp_path, capsys):
    """Case 8."""
    mask = run["masks"] / "a.png"
    hole = np.asarray(Image.open(mask)) > 0
    grey = np.asarray(Image.open(run["photos"] / "a.png").convert("L"))
    Image.fromarray(grey).save(tmp_path / "grey.png")
    assert main(_inpaint(run, tmp_path / "grey.png", mask, tmp_path / "g.png")) == 0
    with Image.open(tmp_path / "g.png") as im:
        assert im.mode == "L"
        res = np.asarray(im)
    assert np.array_equal(res[~hole], grey[~hole])
    rgba = np.dstack([np.asarray(Image.open(run["photos"] / "a.png")), np.full((40, 44), 128, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    capsys.readouterr()
    assert main(_inpaint(run, tmp_path / "rgba.png", mask, tmp_path / "r.png")) == 0
    assert "note: rgba.png has an alpha channel: it is composited on white" in capsys.readouterr().out
    assert Image.open(tmp_path / "r.png").mode == "RGB"
    for name in ("r.jpg", "r.webp"):
        assert main(_inpaint(run, run["photos"] / "a.png", mask, tmp_path / name)) == 0
        out = capsys.readouterr().out
        src = np.asarray(Image.open(run["photos"] / "a.png"), dtype=np.int16)
        got = np.asarray(Image.open(tmp_path / name).convert("RGB"), dtype=np.int16)
        worst = int(np.abs(got - src).max(axis=2)[~hole].max())
        assert f"note: {name}: {Path(name).suffix} is a lossy format: known pixels differ from the input by up to " \
               f"{worst} levels" in out and worst > 0
    assert main(_inpaint(run, run["photos"] / "a.png", mask, tmp_path / "p.png")) == 0
    assert "note:" not in capsys.readouterr().out  # lossless, opaque, colour: nothing to say


def test_conflicting_or_mistyped_options_are_refused(run, tmp_path, capsys):
    """Case 9 (EdgeConnect): --checkpoint with --edge/--inpaint-checkpoint; --set against --stage; --set types."""
    one, mask = run["photos"] / "a.png", run["masks"] / "a.png"
    for option in ("--edge-checkpoint", "--inpaint-checkpoint"):
        err = _error(_inpaint(run, one, mask, tmp_path / "x.png", option, str(run["ei"])), capsys)
        assert f"--checkpoint and {option} both name the model" in err
    train = ["train", "--data", str(run["photos"]), "--out", str(tmp_path / "r"), *TRAIN]
    err = _error([*train, "--stage", "inpaint", "--set", "stage=joint"], capsys)
    assert "--set stage=joint conflicts with --stage inpaint" in err
    err = _error([*train, "--stage", "edge", "--lr", "0.001", "--set", "lr=0.01"], capsys)
    assert "conflicts with --lr 0.001" in err
    for item, expected in (("colour_reference=maybe", "colour_reference expects true or false"),
                           ("colour_reference=1", "colour_reference expects true or false"),
                           ("lr=abc", "lr expects a number"), ("seam_width=2.5", "seam_width expects an integer"),
                           ("lr_milestones=[1.5]", "lr_milestones expects a list of integers"),
                           ("hole_range=0.3", "hole_range expects a list of numbers")):
        assert expected in _error([*train, "--stage", "edge", "--set", item], capsys)
    assert not (tmp_path / "r").exists() and not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1"])
def test_max_megapixels_must_be_positive_and_finite(run, tmp_path, capsys, value):
    """Case 12."""
    err = _error(_inpaint(run, run["photos"] / "a.png", run["masks"] / "a.png", tmp_path / "x.png",
                          "--max-megapixels", value), capsys)
    assert f"--max-megapixels {float(value)}" in err and "positive" in err


def test_folder_inputs_are_all_checked_before_any_result_is_written(run, tmp_path, capsys):
    """Case 13: a truncated image, an unreadable mask and a wrong-size edge map stop the batch up front, listed;
    --skip-bad inpaints the others and lists the skipped ones."""
    A, M, E = tmp_path / "A", tmp_path / "M", tmp_path / "E"
    for d in (A, M, E):
        d.mkdir()
    for name in "abcd":
        _photo(A / f"{name}.png", 40, 44)
        _mask(M / f"{name}.png", 40, 44)
        _edges_file(E / f"{name}.png", 255)
    (A / "b.png").write_bytes((A / "b.png").read_bytes()[:200])  # truncated
    (M / "c.png").write_text("not a png")
    _edges_file(E / "d.png", 255, 30, 30)
    out = tmp_path / "out"
    err = _error(_inpaint(run, A, M, out, "--edges", str(E)), capsys)
    assert "3 of 4 images cannot be inpainted (nothing was written)" in err
    assert all(s in err for s in ("b.png", "c.png", "d.png is 30x30", "--skip-bad"))
    assert not out.exists()
    assert main(_inpaint(run, A, M, out, "--edges", str(E), "--skip-bad")) == 0
    printed = capsys.readouterr().out
    assert "note: skipped 3 of 4 images (--skip-bad)" in printed and "b.png" in printed
    assert [p.name for p in out.iterdir()] == ["a.png"]


def test_download_timeout_must_be_positive(capsys):
    """Case 14 (download): refused before any network access."""
    for value in ("0", "-1", "nan"):
        assert "--timeout" in _error(["download", "vgg19", "--timeout", value], capsys)


def test_a_read_only_result_is_not_silently_replaced(run, tmp_path, capsys):
    """Case 14: a chmod-444 output: one line (exit 1), the file kept."""
    out = tmp_path / "r.png"
    out.write_bytes(b"keep me")
    out.chmod(0o444)
    err = _error(_inpaint(run, run["photos"] / "a.png", run["masks"] / "a.png", out), capsys, code=1)
    assert f"{out}: the file is read-only" in err
    assert out.read_bytes() == b"keep me"
