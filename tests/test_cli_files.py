"""edgeconnect_lib.cli_files: the command line's one guard for the files a verb reads and writes (issue 20)."""
from __future__ import annotations

import errno

import numpy as np
import pytest
from PIL import Image

from edgeconnect_lib.checkpoints import check_write_target
from edgeconnect_lib.cli_files import (
    CliError,
    FileGuard,
    FileWriteError,
    check_image_array,
    describe_os_error,
    parse_overrides,
    write_image,
    write_text,
)


def test_an_output_that_is_an_input_by_another_name_is_refused(tmp_path):
    photo = tmp_path / "photos" / "a.png"
    photo.parent.mkdir()
    photo.write_bytes(b"x")
    (tmp_path / "link.png").symlink_to(photo)
    guard = FileGuard()
    guard.add_input("--photos", photo)
    for name in (photo, tmp_path / "link.png", tmp_path / "photos" / ".." / "photos" / "a.png"):
        with pytest.raises(CliError, match=r"is the input file of --photos"):
            guard.add_output("--out", name)
    guard.add_output("--out", tmp_path / "table.md")
    with pytest.raises(CliError, match="is also the output of --out"):
        guard.add_output("--bicubic", tmp_path / "photos" / ".." / "table.md")


def test_an_output_inside_a_training_data_folder_is_refused(tmp_path):
    guard = FileGuard()
    guard.add_data_folder("--data", tmp_path / "data")
    guard.add_data_folder("--val-data", tmp_path / "flat", recursive=False)
    for out in (tmp_path / "data", tmp_path / "data" / "run", tmp_path / "x" / ".." / "data" / "deep" / "run"):
        with pytest.raises(CliError, match=r"inside the training data folder .*data \(--data\)"):
            guard.add_output("--out", out)
    with pytest.raises(CliError, match="inside the training data folder"):
        guard.add_output("--out", tmp_path / "flat")
    guard.add_output("--out", tmp_path / "flat" / "run")  # a list's folder is read, not its sub-folders
    guard.add_output("--out2", tmp_path / "runs" / "edge")


def test_write_targets_are_checked_before_writing(tmp_path):
    (tmp_path / "dir").mkdir()
    with pytest.raises(IsADirectoryError):
        check_write_target(tmp_path / "dir")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        check_write_target(tmp_path / "file" / "a" / "b.png")
    ro = tmp_path / "ro.md"
    ro.write_text("old")
    ro.chmod(0o444)
    with pytest.raises(FileWriteError) as info:
        write_text(ro, "new", "the table")
    assert info.value.errno == errno.EACCES and describe_os_error(info.value) == str(info.value)
    assert str(info.value).startswith(f"cannot save the table: {ro}: the file is read-only")
    assert ro.read_text() == "old"


def test_image_arrays_are_checked_and_lossy_changes_measured(tmp_path):
    assert check_image_array(np.full((2, 2, 3), 200, np.uint8)).max() == 200
    assert check_image_array(np.ones((2, 2), bool)).max() == 255
    assert check_image_array(np.full((2, 2, 1), 1.01, np.float32)).shape == (2, 2)  # slight overshoot: clipped
    for bad, message in ((np.full((2, 2), np.inf), "NaN or infinite"), (np.full((2, 2), 255.0), r"in \[0, 1\]"),
                         (np.zeros((2, 2, 4)), "H x W"), (np.zeros((2, 2), np.int32), "dtype int32")):
        with pytest.raises(ValueError, match=message):
            check_image_array(bad)
    rng = np.random.default_rng(0)
    image = rng.random((32, 32, 3)).astype(np.float32)
    assert write_image(image, tmp_path / "a.png") is None
    known = np.ones((32, 32), bool)
    known[8:16, 8:16] = False
    change = write_image(image, tmp_path / "a.jpg", known=known)
    back = np.asarray(Image.open(tmp_path / "a.jpg"), dtype=np.int16)
    levels = (image * 255 + 0.5).astype(np.int16)
    assert change == int(np.abs(back - levels).max(axis=2)[known].max()) and change > 0


def test_set_values_take_the_type_of_the_dataclass_field():
    """One ``--set`` parser for every settings dataclass (train's TrainConfig, ingan's InGANConfig)."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Settings:
        steps: int = 10
        lr: float = 0.1
        name: str = "a"
        flag: bool = True
        milestones: tuple[int, ...] = ()
        band: tuple[float, float] = (0.1, 0.6)

    got = parse_overrides(Settings, ["steps=3", "lr=1", "name=0", "flag=false", "milestones=[5,9]",
                                     "band=[0, 1]", "other=[1]", "lr=1.0"])
    assert got == {"steps": 3, "lr": 1.0, "name": "0", "flag": False, "milestones": (5, 9), "band": (0.0, 1.0),
                   "other": (1,)}  # an unknown key is left to the config's constructor (its list of keys)
    assert isinstance(got["lr"], float)
    for item, words in (("steps=2.5", "steps expects an integer"), ("steps=true", "steps expects an integer"),
                        ("lr=abc", "lr expects a number"), ("lr=NaN", "lr expects a finite number"),
                        ("lr=-inf", "lr expects a finite number"), ("flag=1", "flag expects true or false"),
                        ("milestones=[1.5]", "milestones expects a list of integers"),
                        ("band=[0, NaN]", "band expects a list of numbers"), ("steps", "expected KEY=VALUE")):
        with pytest.raises(CliError, match="^--set .*" + words.replace("[", r"\[")):
            parse_overrides(Settings, [item])
    with pytest.raises(CliError, match="--set steps=4 conflicts with --steps 3"):
        parse_overrides(Settings, ["steps=4"], {"steps": (3, "--steps 3")})
    with pytest.raises(CliError, match="conflicts with an earlier --set lr"):
        parse_overrides(Settings, ["lr=1", "lr=2"])
    assert parse_overrides(Settings, ["steps=3"], {"steps": (3, "--steps 3")}) == {"steps": 3}
