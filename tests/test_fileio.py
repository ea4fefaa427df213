"""edgeconnect_lib.fileio: atomic writes and the one image writer (issue 23: one home for file writes)."""
from __future__ import annotations

import errno

import numpy as np
import pytest
from PIL import Image

from edgeconnect_lib import checkpoints, cli_files, editor, fileio
from edgeconnect_lib.fileio import FileWriteError, atomic_write, write_image, write_png
from edgeconnect_lib.images import load_image, to_uint8


def _no_temporary_file(folder) -> bool:
    return not [p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]


def test_the_writers_have_one_home():
    """The names the verbs, the editor and the checkpoints used are the same objects as fileio's."""
    assert cli_files.write_image is fileio.write_image and cli_files.write_bytes is fileio.write_bytes
    assert cli_files.FileWriteError is fileio.FileWriteError and cli_files.describe_os_error is fileio.describe_os_error
    assert checkpoints.atomic_write is fileio.atomic_write and checkpoints.atomic_save is fileio.atomic_save
    assert checkpoints.write_error is fileio.write_error and checkpoints.check_write_target is fileio.check_write_target
    assert editor.write_png is fileio.write_png


def test_png_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    levels = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    assert write_image(levels, tmp_path / "u8.png") is None  # lossless: no change to report
    assert np.array_equal(np.asarray(Image.open(tmp_path / "u8.png")), levels)
    floats = levels.astype(np.float32) / 255
    write_image(floats, tmp_path / "f.png")
    assert np.array_equal(load_image(tmp_path / "f.png"), floats)
    grey = floats[..., 0]
    assert write_png(grey, tmp_path / "g.png") == tmp_path / "g.png"
    with Image.open(tmp_path / "g.png") as im:
        assert im.mode == "L" and np.array_equal(np.asarray(im), levels[..., 0])


def test_a_lossy_format_reports_its_largest_change(tmp_path):
    rng = np.random.default_rng(1)
    noisy = rng.random((32, 32, 3)).astype(np.float32)
    change = write_image(noisy, tmp_path / "a.jpg")
    back = (np.asarray(Image.open(tmp_path / "a.jpg")).astype(int) - to_uint8(noisy))
    assert change == int(np.abs(back).max()) and change > 0


def test_write_png_refuses_a_lossy_ending(tmp_path):
    with pytest.raises(ValueError, match=r"use a \.png file"):
        write_png(np.zeros((4, 4), np.float32), tmp_path / "edges.jpg", "edge map")
    assert not list(tmp_path.iterdir())


def test_a_failed_encoding_keeps_the_earlier_file_and_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    write_image(np.full((6, 6, 3), 0.25, np.float32), path)
    before = path.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(FileWriteError) as info:
        write_image(np.zeros((6, 6, 3), np.float32), path, what="result")
    monkeypatch.undo()
    line = str(info.value)
    assert "\n" not in line and line.startswith("cannot save result: ") and str(path) in line and "disk is full" in line
    assert path.read_bytes() == before and _no_temporary_file(tmp_path)
    with pytest.raises(FileWriteError):  # a new file is not created half written either
        monkeypatch.setattr(Image.Image, "save", broken_save)
        write_image(np.zeros((6, 6, 3), np.float32), tmp_path / "new.png")
    assert not (tmp_path / "new.png").exists() and _no_temporary_file(tmp_path)


def test_atomic_write_is_all_or_nothing(tmp_path):
    path = tmp_path / "sub" / "a.bin"
    atomic_write(path, lambda f: f.write(b"old"))
    assert path.read_bytes() == b"old"

    def half(f):
        f.write(b"ne")
        raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(OSError) as info:
        atomic_write(path, half)
    assert info.value.filename == str(path) and info.value.errno == errno.EIO
    assert path.read_bytes() == b"old" and _no_temporary_file(path.parent)


def test_bad_arrays_are_refused_before_anything_is_written(tmp_path):
    bad = np.full((4, 4, 3), 0.5, np.float32)
    bad[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        write_image(bad, tmp_path / "x.png")
    with pytest.raises(ValueError, match="H x W"):
        write_image(np.zeros((4, 4, 2), np.float32), tmp_path / "x.png")
    assert not list(tmp_path.iterdir())
