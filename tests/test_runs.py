"""runs.py: one run folder's lifecycle (guard, resume, atomic save and prune, config.json, CSV logs), as both
trainers use it. Plain dicts stand in for checkpoints: the lifecycle does not care what a trainer saves."""
from __future__ import annotations

import errno
import json

import pytest
import torch

from edgeconnect_lib.checkpoints import list_checkpoints
from edgeconnect_lib.runs import UNREADABLE_SUFFIX, CsvLog, RunFolder


def _ckpt(iteration: int, **extra) -> dict:
    return {"format": "test/1", "iteration": iteration, "networks": {"w": torch.full((3,), float(iteration))},
            **extra}


def _run_with(tmp_path, iterations=(2, 4, 6), keep_last=5, **kw) -> RunFolder:
    run = RunFolder(tmp_path / "run", keep_last=keep_last, **kw)
    for i in iterations:
        run.save(_ckpt(i), i)
    return run


# -- the guard -----------------------------------------------------------------------------------------------
def test_guard_refuses_a_folder_holding_another_run(tmp_path):
    RunFolder(tmp_path / "new").check_fresh_or_resume(None)  # an empty or missing folder: a fresh run is fine
    _run_with(tmp_path)
    with pytest.raises(ValueError, match=r"already holds checkpoints of an earlier run: resume it \(resume=True"):
        RunFolder(tmp_path / "run").check_fresh_or_resume(None)
    # resuming its own checkpoint is fine; one from another folder would mix two runs
    own = RunFolder(tmp_path / "run", resume=True)
    own.check_fresh_or_resume(own.resume_checkpoint())
    other = _run_with(tmp_path / "o")
    foreign = RunFolder(tmp_path / "run", resume=str(list_checkpoints(other.out_dir)[-1]))
    with pytest.raises(ValueError, match="would mix two runs"):
        foreign.check_fresh_or_resume(foreign.resume_checkpoint())


def test_temporary_files_go_on_a_resume_of_the_folder_only(tmp_path):
    run = _run_with(tmp_path)
    tmp = run.checkpoints_dir / ".ckpt_00000008.pt.abc.tmp"
    tmp.write_bytes(b"half")
    other = _run_with(tmp_path / "o")
    foreign = RunFolder(run.out_dir, resume=other.out_dir)
    with pytest.raises(ValueError):
        foreign.check_fresh_or_resume(foreign.resume_checkpoint())
    assert tmp.exists()  # a refused run touches nothing
    own = RunFolder(run.out_dir, resume=True)
    own.check_fresh_or_resume(own.resume_checkpoint())
    assert not tmp.exists()


# -- resume ----------------------------------------------------------------------------------------------------
def test_resume_takes_the_newest_readable_and_sets_the_truncated_one_aside(tmp_path):
    run = _run_with(tmp_path)
    newest = list_checkpoints(run.out_dir)[-1]
    newest.write_bytes(newest.read_bytes()[:40])  # a crash mid-copy
    said: list[str] = []
    resumed = RunFolder(run.out_dir, resume=True, log=said.append)
    ckpt = resumed.resume_checkpoint()
    assert ckpt["iteration"] == 4 and resumed.resumed_from == list_checkpoints(run.out_dir)[-1]
    assert any(f"skipped unreadable checkpoint {newest}" in line for line in said)
    assert any("the newest readable checkpoint" in line for line in said)
    assert not newest.exists() and newest.with_name(newest.name + UNREADABLE_SUFFIX).is_file()
    assert [p.name for p in list_checkpoints(run.out_dir)] == ["ckpt_00000002.pt", "ckpt_00000004.pt"]


def test_resume_with_nothing_readable_and_explicit_files(tmp_path):
    run = _run_with(tmp_path, iterations=(2,))
    assert RunFolder(tmp_path / "empty", resume=True).resume_checkpoint() is None  # nothing to resume
    assert RunFolder(None, resume=True).resume_checkpoint() is None
    first = list_checkpoints(run.out_dir)[0]
    run.save(_ckpt(4), 4)
    assert RunFolder(tmp_path / "x", resume=first).resume_checkpoint()["iteration"] == 2  # that file
    assert RunFolder(tmp_path / "x", resume=run.out_dir).resume_checkpoint()["iteration"] == 4  # a folder's newest
    given = _ckpt(9, path=str(first))
    assert RunFolder(tmp_path / "x", resume=given).resume_checkpoint() is given  # already read: not read again
    with pytest.raises(FileNotFoundError, match="no such checkpoint file or run folder"):
        RunFolder(tmp_path / "x", resume=tmp_path / "missing").resume_checkpoint()
    for p in list_checkpoints(run.out_dir):
        p.write_bytes(b"")
    with pytest.raises(ValueError, match=r"none of the 2 checkpoint\(s\).*resume=PATH"):
        RunFolder(run.out_dir, resume=True, log=lambda _: None).resume_checkpoint()
    assert len(list_checkpoints(run.out_dir)) == 2  # nothing renamed when there is nothing to resume from


# -- save and prune ------------------------------------------------------------------------------------------
def test_save_prunes_to_keep_last(tmp_path):
    run = _run_with(tmp_path, iterations=(1, 2, 3, 4, 5), keep_last=2)
    assert [p.name for p in list_checkpoints(run.out_dir)] == ["ckpt_00000004.pt", "ckpt_00000005.pt"]
    assert torch.load(list_checkpoints(run.out_dir)[-1], weights_only=True)["iteration"] == 5
    assert not list(run.checkpoints_dir.glob("*.tmp"))


def test_a_failed_write_keeps_the_old_files(tmp_path, monkeypatch):
    run = _run_with(tmp_path, iterations=(2,), keep_last=1)
    old = list_checkpoints(run.out_dir)[0]
    before = old.read_bytes()

    def disk_full(obj, f, **kw):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    for target in (2, 3):  # over the old file, and a new one (which would prune the old)
        with pytest.raises(OSError, match=f"training stopped at iteration {target} and the last good checkpoint is"):
            run.save(_ckpt(target), target, last_good=old)
    assert list_checkpoints(run.out_dir) == [old] and old.read_bytes() == before
    assert not list(run.checkpoints_dir.glob("*.tmp"))


def test_other_ranks_write_nothing(tmp_path):
    run = RunFolder(tmp_path / "run", main=False)
    assert run.save(_ckpt(1), 1).name == "ckpt_00000001.pt"
    assert run.write_config({"a": 1}) is None and run.csv_log("log.csv", 0) is None
    assert not (tmp_path / "run").exists()


# -- config.json and the CSV logs ----------------------------------------------------------------------------
def test_config_is_written(tmp_path):
    run = RunFolder(tmp_path / "run")
    path = run.write_config({"lr": 1e-4, "stage": "edge", "hole_range": [0.1, 0.5]})
    assert path == tmp_path / "run" / "config.json"
    assert json.loads(path.read_text()) == {"lr": 1e-4, "stage": "edge", "hole_range": [0.1, 0.5]}
    run.write_config({"lr": 2e-4})
    assert json.loads(path.read_text()) == {"lr": 2e-4}


def test_logs_start_afresh_or_continue_after_a_resume(tmp_path):
    run = _run_with(tmp_path, iterations=(2,))
    log = RunFolder(run.out_dir).csv_log("log.csv", 0)
    for i in (1, 2, 3):
        log.write({"iteration": i, "loss": 0.5, "seconds": 10.0 * i})
    resumed = RunFolder(run.out_dir, resume=True)
    ckpt = resumed.resume_checkpoint()
    assert resumed.seconds_before(ckpt) == 20.0  # no 'seconds' in the checkpoint: the log's at its iteration
    assert resumed.seconds_before({**ckpt, "seconds": 7.5}) == 7.5
    resumed.csv_log("log.csv", ckpt["iteration"]).write({"iteration": 3, "loss": 0.25, "seconds": 31.0, "new": 1})
    lines = (run.out_dir / "log.csv").read_text().splitlines()
    assert lines[0] == "iteration,loss,seconds,new" and [ln.split(",")[0] for ln in lines[1:]] == ["1", "2", "3"]
    assert lines[-1] == "3,0.25,31,1"
    RunFolder(tmp_path / "run").csv_log("log.csv", 0)  # a fresh run: the old log goes
    assert not (run.out_dir / "log.csv").exists()


def test_csv_log_stays_importable_from_train():
    from edgeconnect_lib.train import CsvLog as TrainCsvLog

    assert TrainCsvLog is CsvLog
